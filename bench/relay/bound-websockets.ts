// libp2p's WebSockets transport, dialing from a chosen loopback address.
// A tab's WebSocket (the global one) cannot pick its source address, and the
// relay admits few new connections a second per host (libp2p's inbound
// threshold, the per-address limits), so each simulated tab dials from one of
// 127.0.0.2…127.0.0.N as a tab on its own machine would.
import { webSockets } from '@libp2p/websockets'
import WebSocket from 'ws'
import type { Transport } from '@libp2p/interface'

type TransportFactory = ReturnType<typeof webSockets>

/** The part of the transport that opens the socket: it calls `new WebSocket(uri)` synchronously, before its first await. */
interface Connecting { _connect: (...args: unknown[]) => Promise<unknown> }

/** A WebSocket class whose sockets leave from `localAddress` (the `ws` package takes http.request's options). */
function boundWebSocketClass (localAddress: string): typeof globalThis.WebSocket {
  return class extends WebSocket {
    constructor (url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { localAddress, perMessageDeflate: false })
    }
  } as unknown as typeof globalThis.WebSocket
}

/**
 * `webSockets()` whose dials leave from `localAddress`. The transport reads
 * the global `WebSocket` when it dials; it is swapped for the bound class for
 * exactly that synchronous call, so every tab in a process keeps its own
 * address.
 */
export function boundWebSockets (localAddress: string): TransportFactory {
  const factory = webSockets()
  const Bound = boundWebSocketClass(localAddress)
  return (components) => {
    const transport = factory(components) as Transport & Connecting
    const connect = transport._connect.bind(transport)
    transport._connect = async (...args: unknown[]) => {
      const original = globalThis.WebSocket
      globalThis.WebSocket = Bound
      let opening: Promise<unknown>
      try {
        opening = connect(...args)
      } finally {
        globalThis.WebSocket = original
      }
      return await opening
    }
    return transport
  }
}
