import { webSockets } from '@libp2p/websockets'
import type { WebSocketsComponents, WebSocketsInit } from '@libp2p/websockets'
import type { Server } from 'node:https'
import type { Transport } from '@libp2p/interface'

/**
 * libp2p's WebSockets transport, handing over the HTTPS server each
 * `/tls/ws` listener makes so its certificate can be replaced in place
 * (`setSecureContext`) instead of restarting the listener and dropping
 * every tab. The server is an internal of @libp2p/websockets (version
 * pinned; the TLS tests fail if it moves).
 */
export function secureWebSockets (init: WebSocketsInit, onHttpsServer: (server: Server) => void): (components: WebSocketsComponents) => Transport {
  const factory = webSockets(init)
  return (components) => {
    const transport = factory(components)
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => {
      const listener = createListener(options)
      listener.addEventListener('listening', () => {
        const server = (listener as unknown as { https?: Server }).https
        if (server != null) onHttpsServer(server)
      }, { once: true })
      return listener
    }
    return transport
  }
}
