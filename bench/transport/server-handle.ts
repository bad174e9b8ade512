import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ChildProcess } from 'node:child_process'

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

const ROOT = new URL('../../', import.meta.url).pathname

/** Starts `server-process.ts` and waits for its ready line. */
export async function startServer (log: (line: string) => void, timeoutMs = 30_000): Promise<ServerHandle> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/transport/server-process.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe']
  })
  createInterface({ input: child.stderr }).on('line', (line) => { log(`[server] ${line}`) })
  const stop = async (): Promise<void> => { await stopChild(child) }
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

/** SIGTERM, then SIGKILL if it lingers. */
async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 5_000)
  await exited
  clearTimeout(timer)
}
