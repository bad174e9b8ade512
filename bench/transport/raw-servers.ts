import { createServer } from 'node:net'
import { WebSocketServer } from 'ws'
import { encodeAck } from './bench-protocol.ts'
import type { AddressInfo, Server, Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'

/** The forwarder pauses the TCP side above this many bytes queued on the WebSocket. */
const FORWARD_HIGH_WATER = 4 * 1024 * 1024
const FORWARD_LOW_WATER = 1024 * 1024

export interface RawServers {
  /** Bare TCP sink: counts, replies with an 8-byte total when the client ends. */
  tcpPort: number
  /** Bare WebSocket sink: counts binary messages, answers "end" with the count. */
  wsUrl: string
  /** Forwarder, Node side (bare TCP). */
  forwardTcpPort: number
  /** Forwarder, tab side (bare WebSocket). */
  forwardWsUrl: string
  close: () => Promise<void>
}

function rawLength (data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0)
  return data.byteLength
}

/** Every socket a server accepted, so shutdown need not wait for clients. */
function trackSockets (server: Server): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket) })
  })
  return sockets
}

async function listen (server: Server | WebSocketServer, host: string): Promise<number> {
  if (server instanceof WebSocketServer) {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    return (server.address() as AddressInfo).port
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  return (server.address() as AddressInfo).port
}

function tcpSink (): Server {
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    let total = 0
    socket.on('data', (chunk) => { total += chunk.byteLength })
    socket.on('end', () => { socket.end(encodeAck(total)) })
    socket.on('error', () => { socket.destroy() })
  })
}

function wsSink (host: string): WebSocketServer {
  const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false })
  wss.on('connection', (ws) => {
    let total = 0
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        total += rawLength(data)
      } else if (data.toString() === 'end') {
        ws.send(String(total))
        total = 0
      }
    })
    ws.on('error', () => { ws.terminate() })
  })
  return wss
}

/**
 * The raw stand-in for a circuit relay: the tab holds one bare WebSocket
 * open (like a reservation); each Node TCP socket is paired with it. The tab
 * confirms the pairing ("open" → "ok", relayed back as one byte), then bytes
 * are piped TCP → WebSocket with backpressure and the tab's count comes back
 * as the 8-byte ack when the Node side ends.
 */
function forwarder (host: string): { tcp: Server, wss: WebSocketServer } {
  const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false })
  let tab: WebSocket | undefined
  let onTabText: ((text: string) => void) | undefined
  wss.on('connection', (ws) => {
    tab = ws
    ws.on('message', (data, isBinary) => { if (!isBinary) onTabText?.(data.toString()) })
    ws.on('close', () => { if (tab === ws) tab = undefined })
    ws.on('error', () => { ws.terminate() })
  })

  const tcp = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    const ws = tab
    if (ws == null || ws.readyState !== ws.OPEN) {
      socket.destroy()
      return
    }
    let paired = false
    let queued = 0
    const onText = (text: string): void => {
      if (!paired && text === 'ok') {
        paired = true
        socket.write(Uint8Array.of(1))
      } else if (paired) {
        socket.end(encodeAck(Number(text)))
      }
    }
    onTabText = onText
    socket.on('data', (chunk) => {
      queued += chunk.byteLength
      ws.send(chunk, () => {
        queued -= chunk.byteLength
        if (queued < FORWARD_LOW_WATER && socket.isPaused()) socket.resume()
      })
      if (queued > FORWARD_HIGH_WATER) socket.pause()
    })
    socket.on('end', () => { ws.send('end') })
    socket.on('close', () => { if (onTabText === onText) onTabText = undefined })
    socket.on('error', () => { socket.destroy() })
    ws.send('open')
  })
  return { tcp, wss }
}

export async function startRawServers (host: string): Promise<RawServers> {
  const sink = tcpSink()
  const wss = wsSink(host)
  const fwd = forwarder(host)
  const sockets = [trackSockets(sink), trackSockets(fwd.tcp)]
  const [tcpPort, wsPort, forwardTcpPort, forwardWsPort] = await Promise.all([
    listen(sink, host), listen(wss, host), listen(fwd.tcp, host), listen(fwd.wss, host)
  ])
  return {
    tcpPort,
    wsUrl: `ws://${host}:${wsPort}/`,
    forwardTcpPort,
    forwardWsUrl: `ws://${host}:${forwardWsPort}/`,
    close: async () => {
      for (const w of [wss, fwd.wss]) for (const client of w.clients) client.terminate()
      for (const set of sockets) for (const socket of set) socket.destroy()
      await Promise.all([
        new Promise<void>(resolve => { sink.close(() => { resolve() }) }),
        new Promise<void>(resolve => { fwd.tcp.close(() => { resolve() }) }),
        new Promise<void>(resolve => { wss.close(() => { resolve() }) }),
        new Promise<void>(resolve => { fwd.wss.close(() => { resolve() }) })
      ])
    }
  }
}
