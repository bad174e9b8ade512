import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

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
      input: {
        main: fileURLToPath(new URL('./web/index.html', import.meta.url)),
        // the transport benchmark's page (npm run bench:transport)
        transportBench: fileURLToPath(new URL('./web/bench/transport.html', import.meta.url)),
        // the hashcash benchmark's page (npm run bench:hashcash)
        hashcashBench: fileURLToPath(new URL('./web/bench/hashcash.html', import.meta.url)),
        // the storage benchmark's page (npm run bench:storage)
        storageBench: fileURLToPath(new URL('./web/bench/storage.html', import.meta.url)),
        // the tasks benchmark's page (npm run bench:tasks)
        tasksBench: fileURLToPath(new URL('./web/bench/tasks.html', import.meta.url)),
        // the task sandbox's test page (e2e/sandbox.spec.ts)
        sandboxTest: fileURLToPath(new URL('./web/bench/sandbox.html', import.meta.url))
      }
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
