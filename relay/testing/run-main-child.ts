// A CLI entry point under runMain, for relay/bin/run-main.test.ts: its stop
// takes 600 ms ("stopping", then "stopped" lines). Mode "self" begins that
// stop itself, as `peer --exec` does once its commands ran; mode "serve"
// waits for a signal.
import { runMain } from '../bin/run-main.ts'

const mode = process.argv[2] ?? 'serve'
await runMain('child', async (ctx) => {
  ctx.onShutdown(async () => {
    ctx.print('stopping')
    await new Promise(resolve => setTimeout(resolve, 600))
    ctx.print('stopped')
  })
  ctx.print('ready')
  if (mode === 'self') setTimeout(() => { ctx.exit(0) }, 10)
  return 'serve'
})
