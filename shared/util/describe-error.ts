/**
 * What went wrong, as a sentence fragment a person can read: the one place
 * errors, DOM events and thrown values become text for the page and the
 * CLI. A failed WebSocket rejects with a bare `Event` (browsers say nothing
 * more, on purpose), whose `String()` is "[object Event]".
 */
export function describeError (err: unknown): string {
  if (err == null) return 'unknown error'
  if (typeof err === 'string') return err === '' ? 'unknown error' : err
  if (typeof err !== 'object') return String(err)
  const e = err as { name?: unknown, message?: unknown, errors?: unknown, type?: unknown, code?: unknown, reason?: unknown, target?: unknown }
  // a dial of several addresses fails with all of them: the first says enough
  if (e.name === 'AggregateError' && Array.isArray(e.errors) && e.errors.length > 0) return describeError(e.errors[0])
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out'
  if (isEvent(e)) return describeEvent(e)
  if (typeof e.message === 'string' && e.message !== '' && !e.message.startsWith('[object ')) return e.message
  if (typeof e.name === 'string' && e.name !== '' && e.name !== 'Error') return e.name
  return 'unknown error'
}

interface EventLike { type: string, message?: unknown, code?: unknown, reason?: unknown, target?: unknown }

function isEvent (e: object): e is EventLike {
  if (typeof Event !== 'undefined' && e instanceof Event) return true
  return typeof (e as { type?: unknown }).type === 'string' && 'target' in e
}

function describeEvent (e: EventLike): string {
  // ErrorEvent (workers, some WebSocket implementations) carries a message
  if (typeof e.message === 'string' && e.message !== '') return e.message
  if (e.type === 'close' && typeof e.code === 'number') {
    const reason = typeof e.reason === 'string' && e.reason !== '' ? `: ${e.reason}` : ''
    return `the connection closed (code ${e.code}${reason})`
  }
  if (e.type === 'error' || e.type === 'abort') return 'the connection failed (refused, dropped or blocked)'
  return `the connection failed (${e.type})`
}
