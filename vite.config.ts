import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

// The page as relays serve it (dist/web): nothing but the product. The test
// build (vite.test.config.ts) adds the bench and test pages in dist/test-web.
export default defineConfig({
  root: 'web',
  publicDir: 'public',
  plugins: [svelte()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: { main: fileURLToPath(new URL('./web/index.html', import.meta.url)) }
    }
  },
  server: {
    port: 5173
  },
  test: {
    root: '.',
    include: ['shared/**/*.test.ts', 'relay/**/*.test.ts', 'web/**/*.test.ts', 'tasks/**/*.test.ts', 'tools/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
