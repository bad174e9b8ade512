import type { Multiaddr } from '@multiformats/multiaddr'

/** Polls `check` until it holds; tests wait on state, never on fixed sleeps. */
export async function until (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const start = Date.now()
  while (!await check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** A node's loopback TCP listen address. */
export function tcpAddr (node: { getMultiaddrs: () => Multiaddr[] }): Multiaddr {
  const addr = node.getMultiaddrs().find(ma => ma.toString().startsWith('/ip4/127.0.0.1/tcp/') && !ma.toString().includes('/ws'))
  if (addr == null) throw new Error('no TCP address')
  return addr
}
