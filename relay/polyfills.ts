// Node 20 lacks what libp2p 3 expects from a modern runtime; load this module
// before anything imports libp2p.
import { WebSocket as NodeWebSocket } from 'ws'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> () {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

// Dialing `/ws` addresses from Node needs a global WebSocket. `ws` emits
// 'error' as a Node event: when a dial is aborted, libp2p drops its listener
// and a late ECONNREFUSED would crash the process, so one listener stays.
class GuardedWebSocket extends NodeWebSocket {
  constructor (...args: ConstructorParameters<typeof NodeWebSocket>) {
    super(...args)
    this.on('error', () => {})
  }
}

if (typeof globalThis.WebSocket === 'undefined') {
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: GuardedWebSocket })
}
