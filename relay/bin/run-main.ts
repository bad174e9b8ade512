import { InvalidConfigError } from '../../shared/errors.ts'
import { KeyFileError } from '../identity/key-file.ts'

export interface MainContext {
  /** Registers cleanup to run once on SIGINT/SIGTERM. */
  onShutdown: (fn: () => Promise<void>) => void
  /** How long a graceful shutdown may take before the process exits anyway. @default 10 s */
  setShutdownTimeout: (ms: number) => void
  /** Registers work to run on SIGHUP (without it, SIGHUP ends the process as usual). */
  onReload: (fn: () => Promise<void>) => void
  /** Stops as a signal would (cleanups, bounded) but quietly, then exits with `code`; the first stop wins. */
  exit: (code: number) => void
  print: (line: string) => void
}

/**
 * Runs a CLI entry point: clean messages instead of stack traces for
 * configuration mistakes, one graceful shutdown on SIGINT/SIGTERM (a second
 * signal exits at once), and no silent unhandled rejections.
 */
export async function runMain (name: string, main: (ctx: MainContext) => Promise<'serve' | 'exit'>): Promise<void> {
  const cleanups: Array<() => Promise<void>> = []
  let stopping = false
  let signalled = false
  let shutdownTimeout = 10_000
  const print = (line: string): void => { process.stdout.write(`${line}\n`) }

  // `signal` is absent for a stop the program asked for: a normal end, not worth a notice
  const shutdown = (signal?: string, code = 0): void => {
    if (stopping) {
      // the first signal during a stop the program began itself joins it (it lets the last answers out);
      // only a second one is the user's hurry
      if (signal == null || !signalled) {
        signalled ||= signal != null
        return
      }
      process.stderr.write(`${name}: second ${signal}, exiting now\n`)
      process.exit(130)
    }
    stopping = true
    signalled = signal != null
    // lifecycle notices go to stderr so --json output stays parseable
    if (signal != null) process.stderr.write(`${name}: ${signal} received, shutting down\n`)
    const timer = setTimeout(() => {
      process.stderr.write(`${name}: shutdown took too long, exiting\n`)
      process.exit(1)
    }, shutdownTimeout)
    timer.unref()
    Promise.all(cleanups.reverse().map(async fn => { await fn() }))
      .then(() => {
        if (signal != null) process.stderr.write(`${name}: stopped\n`)
        process.exit(code)
      })
      .catch(err => { process.stderr.write(`${name}: error while stopping: ${err.message}\n`); process.exit(1) })
  }

  process.on('SIGINT', () => { shutdown('SIGINT') })
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  const reloads: Array<() => Promise<void>> = []
  const onReload = (fn: () => Promise<void>): void => {
    if (reloads.length === 0) {
      process.on('SIGHUP', () => {
        if (stopping) return
        for (const reload of reloads) {
          reload().catch((err: any) => { process.stderr.write(`${name}: reload failed: ${err?.message ?? String(err)}\n`) })
        }
      })
    }
    reloads.push(fn)
  }

  process.on('unhandledRejection', (err: any) => {
    process.stderr.write(`${name}: unhandled rejection: ${err?.stack ?? String(err)}\n`)
  })

  try {
    const mode = await main({ onShutdown: (fn) => { cleanups.push(fn) }, onReload, setShutdownTimeout: (ms) => { shutdownTimeout = ms }, exit: (code) => { shutdown(undefined, code) }, print })
    if (mode === 'exit') process.exit(0)
  } catch (err: any) {
    if (err instanceof InvalidConfigError || err instanceof KeyFileError) {
      process.stderr.write(`${name}: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`${name}: failed to start: ${err?.stack ?? String(err)}\n`)
    process.exit(1)
  }
}
