import type { TaskRunner } from '../compute/index.ts'
import type { MarketRequest } from '../market/index.ts'

/** A task runner that returns every result with its first byte flipped while `cheating()` says so: a provider lying about its work. */
export function cheatingRunner (runner: TaskRunner, cheating: () => boolean = () => true): TaskRunner {
  return runnerWith(runner, async (run) => {
    const data = await run()
    if (!cheating() || data.byteLength === 0) return data
    const wrong = data.slice()
    wrong[0] = (wrong[0] as number) ^ 0xff
    return wrong
  })
}

/** `runner` with each `run` going through `around`, which may call the real one (`run`) or not; everything else as is. */
export function runnerWith (runner: TaskRunner, around: (run: () => ReturnType<TaskRunner['run']>) => ReturnType<TaskRunner['run']>): TaskRunner {
  return new Proxy(runner, {
    get (target, prop) {
      if (prop === 'run') return async (...args: Parameters<TaskRunner['run']>) => await around(async () => await target.run(...args))
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/** A market tap that flips a bit of every report's result bytes after they were hashed and signed: bytes that don't match the report. */
export function mismatchingTap (): { request: (req: MarketRequest) => MarketRequest } {
  return {
    request: (req) => {
      if (req.kind !== 'report' || req.data == null || req.data.byteLength === 0) return req
      const data = req.data.slice()
      data[data.byteLength - 1] = (data[data.byteLength - 1] as number) ^ 0x01
      return { ...req, data }
    }
  }
}
