import { createInterface } from 'node:readline'
import { spawnScript, stopChild } from '../common/index.ts'

export const READY_PREFIX = 'BENCH-SERVER-READY '

/** What the server process listens on. */
export interface ServerReady {
  relayPeerId: string
  /** The relay's TCP multiaddr, with /p2p/. */
  relayTcp: string
  /** The relay's WebSocket multiaddr, with /p2p/. */
  relayWs: string
  rawTcpPort: number
  rawWsUrl: string
  forwardTcpPort: number
  forwardWsUrl: string
}

export interface ServerHandle {
  ready: ServerReady
  stop: () => Promise<void>
}

/** Starts `server-process.ts` and waits for its ready line. */
export async function startServer (log: (line: string) => void, timeoutMs = 30_000): Promise<ServerHandle> {
  const child = spawnScript('bench/transport/server-process.ts')
  createInterface({ input: child.stderr }).on('line', (line) => { log(`[server] ${line}`) })
  const stop = async (): Promise<void> => { await stopChild(child, { killAfterMs: 5_000 }) }
  try {
    const ready = await new Promise<ServerReady>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`bench server not ready within ${timeoutMs} ms`)) }, timeoutMs)
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`bench server exited early (code ${code})`)) })
      child.once('error', (err) => { clearTimeout(timer); reject(err) })
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith(READY_PREFIX)) { log(`[server] ${line}`); return }
        clearTimeout(timer)
        resolve(JSON.parse(line.slice(READY_PREFIX.length)) as ServerReady)
      })
    })
    return { ready, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
