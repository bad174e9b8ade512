import { svelte } from '@sveltejs/vite-plugin-svelte'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './tools/chromium.ts'

// The page as relays serve it (dist/web): nothing but the product, the page
// and the operator dashboard. The test build (vite.test.config.ts) adds the
// bench and test pages in dist/test-web.
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
        // the operator dashboard, /dashboard on the relay
        dashboard: fileURLToPath(new URL('./web/dashboard.html', import.meta.url)),
        // the widget: the relay's frame a site embeds, and the site owner's page (/widget); the loader (widget.js) is vite.widget.config.ts
        widgetFrame: fileURLToPath(new URL('./web/widget-frame.html', import.meta.url)),
        widget: fileURLToPath(new URL('./web/widget.html', import.meta.url))
      }
    }
  },
  server: {
    port: 5173
  },
  test: {
    root: '.',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['shared/**/*.test.ts', 'relay/**/*.test.ts', 'contracts/**/*.test.ts', 'web/**/*.test.ts', 'tasks/**/*.test.ts', 'tools/**/*.test.ts'],
          environment: 'node'
        }
      },
      {
        // the isomorphic core's tests again, in a real tab: what passes on Node
        // only (Buffer, node: modules, Node's timers) fails here
        extends: true,
        test: {
          name: 'chromium',
          include: ['shared/**/*.test.ts'],
          exclude: ['shared/**/*.node.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }]
          }
        }
      }
    ]
  }
})
