// The tab's side of the bench as one script: tab-entry.ts (measure.ts and
// the shared/ code it uses) bundled by Vite, as the product build bundles
// shared/ for the page. Evaluated in a blank page, so no page of its own is
// needed in the test build.
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const ENTRY = fileURLToPath(new URL('./tab-entry.ts', import.meta.url))

/** The bundle's code (an IIFE that sets `globalThis.paymentsBench`), minified as the product's is. */
export async function tabBundle (): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry: ENTRY, formats: ['iife'], name: 'paymentsBenchBundle', fileName: 'payments-bench' }
    }
  })
  const outputs = Array.isArray(output) ? output : [output]
  for (const out of outputs) {
    if (!('output' in out)) continue
    const chunk = out.output.find(o => o.type === 'chunk')
    if (chunk != null && chunk.type === 'chunk') return chunk.code
  }
  throw new Error('vite made no bundle of the tab side')
}
