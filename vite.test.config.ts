import { fileURLToPath } from 'node:url'
import { defineConfig, mergeConfig } from 'vite'
import product from './vite.config.ts'

const page = (path: string): string => fileURLToPath(new URL(`./web/${path}`, import.meta.url))

// The test build (dist/test-web): the page as it ships, plus the bench pages
// and the test pages. Tests and benches start their relays with
// `--web-root dist/test-web`, so the relay's real headers (the sandbox CSP)
// stay under test; a relay started the usual way never serves these.
export default mergeConfig(product, defineConfig({
  build: {
    outDir: '../dist/test-web',
    rollupOptions: {
      input: {
        main: page('index.html'),
        dashboard: page('dashboard.html'),
        widgetFrame: page('widget-frame.html'),
        widget: page('widget.html'),
        // the page with seams the e2e suite drives: a dishonest provider, a flaky network
        faults: page('test-pages/faults.html'),
        // npm run bench:transport, bench:hashcash, bench:storage, bench:tasks
        transportBench: page('bench/transport.html'),
        hashcashBench: page('bench/hashcash.html'),
        storageBench: page('bench/storage.html'),
        tasksBench: page('bench/tasks.html'),
        // the task sandbox's test page (e2e/sandbox.spec.ts)
        sandboxTest: page('bench/sandbox.html')
      }
    }
  }
}))
