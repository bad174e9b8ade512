import type { TaskRunner } from '../compute/index.ts'
import type { MarketRequest } from '../market/index.ts'

/** A task runner that returns every result with its first byte flipped while `cheating()` says so: a provider lying about its work. */
export function cheatingRunner (runner: TaskRunner, cheating: () => boolean = () => true): TaskRunner {
  return new Proxy(runner, {
    get (target, prop) {
      if (prop === 'run') {
        return async (...args: Parameters<TaskRunner['run']>) => {
          const data = await target.run(...args)
          if (!cheating() || data.byteLength === 0) return data
          const wrong = data.slice()
          wrong[0] = (wrong[0] as number) ^ 0xff
          return wrong
        }
      }
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
