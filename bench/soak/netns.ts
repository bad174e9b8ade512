// The soak's own network: a namespace with a veth pair, so the relays, the
// tabs and WebRTC between tabs use addresses this run owns and nothing else
// on the machine sees its traffic (nor does its traffic see the machine's).
//
// Inside: lo and one veth end (10.77.<n>.2/24) with a default route through
// the host end (10.77.<n>.1). Chromium gathers no WebRTC host candidate at all
// without a default route (it asks the kernel for the route to a public
// address first); the host does not forward (no ip_forward, no NAT) and the
// page sets no STUN server, so nothing leaves the pair.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** Set in the driver's environment once it runs inside the namespace: its own address there. */
export const NETNS_ENV = 'GOLEM_CLAY_SOAK_NETNS'
export const NETNS_ADDR_ENV = 'GOLEM_CLAY_SOAK_ADDR'
const PREFIX = 'gc-soak-'

export interface Netns {
  name: string
  /** The namespace's own (veth) address, where WebRTC candidates must come from. */
  inner: string
  host: string
  /** Kills what still runs inside and deletes the namespace (its veth pair goes with it); safe to call twice. */
  remove: () => void
}

function ip (...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

function killInside (name: string): void {
  let pids: number[] = []
  try { pids = ip('netns', 'pids', name).split('\n').filter(Boolean).map(Number) } catch { return }
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}

function deleteNetns (name: string): void {
  killInside(name)
  try { ip('netns', 'del', name) } catch {}
}

/** Namespaces of earlier soaks whose driver is gone (killed with SIGKILL, so it could not clean up). */
function sweepStale (log: (line: string) => void): void {
  let list = ''
  try { list = ip('netns', 'list') } catch { return }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const pid = Number(name.slice(PREFIX.length))
    if (!name.startsWith(PREFIX) || !Number.isInteger(pid) || alive(pid)) continue
    log(`soak: removing the namespace ${name} left by an earlier run`)
    deleteNetns(name)
  }
}

/** A /24 in 10.77.0.0/16 that no interface on the host uses yet. */
function freeSubnet (): number {
  const used = ip('-4', '-o', 'addr').split('\n').flatMap(l => /10\.77\.(\d+)\./.exec(l)?.[1] ?? []).map(Number)
  for (let i = 0; i < 250; i++) {
    const n = (process.pid + i) % 250 + 1
    if (!used.includes(n)) return n
  }
  throw new Error('no free 10.77.x.0/24 for the soak\'s namespace')
}

/** Makes the namespace `gc-soak-<this pid>` with its veth pair. Needs root (CAP_NET_ADMIN). */
export function createNetns (log: (line: string) => void): Netns {
  sweepStale(log)
  const name = `${PREFIX}${process.pid}`
  const n = freeSubnet()
  const [host, inner] = [`10.77.${n}.1`, `10.77.${n}.2`]
  // interface names: at most 15 characters
  const [hostIf, innerIf] = [`gcs${process.pid}h`, `gcs${process.pid}n`]
  let removed = false
  const remove = (): void => {
    if (removed) return
    removed = true
    deleteNetns(name)
    try { ip('link', 'del', hostIf) } catch {}
  }
  try {
    ip('netns', 'add', name)
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', innerIf)
    ip('link', 'set', innerIf, 'netns', name)
    ip('addr', 'add', `${host}/24`, 'dev', hostIf)
    ip('link', 'set', hostIf, 'up')
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${inner}/24`, 'dev', innerIf)
    ip('netns', 'exec', name, 'ip', 'link', 'set', innerIf, 'up')
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', host)
  } catch (err) {
    remove()
    throw new Error(`could not make the soak's network namespace (root needed: ip netns, veth): ${(err as Error).message}`)
  }
  return { name, inner, host, remove }
}

/**
 * Runs `args` (node flags and script) with this Node inside the namespace, output
 * passed through; resolves with its exit code. Ctrl-C, SIGTERM and SIGHUP are
 * passed on to it, and the namespace is removed once it has exited (or 60 s
 * after a signal, killing what is left), also when this process fails.
 */
export async function runInside (netns: Netns, args: string[], log: (line: string) => void): Promise<number> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns.name, process.execPath, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_ENV]: netns.name, [NETNS_ADDR_ENV]: netns.inner }
  })
  const onExit = (): void => { netns.remove() }
  process.once('exit', onExit)
  let signalled = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled++
    if (signalled > 1) {
      log('soak: second signal, killing everything in the namespace')
      netns.remove()
      process.exit(130)
    }
    log(`soak: ${signal}: asking the driver to stop and report (again to kill)`)
    // (from a terminal the driver gets Ctrl-C itself too: it takes signals within 2 s of each other as one)
    child.kill(signal)
    setTimeout(() => { netns.remove(); process.exit(130) }, 60_000).unref()
  }
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const s of signals) process.on(s, onSignal)
  try {
    return await new Promise<number>((resolve) => {
      child.once('exit', (code, signal) => { resolve(code ?? (signal != null ? 128 : 1)) })
      child.once('error', (err) => { log(`soak: could not start the driver in the namespace: ${err.message}`); resolve(1) })
    })
  } finally {
    for (const s of signals) process.off(s, onSignal)
    process.off('exit', onExit)
    netns.remove()
  }
}
