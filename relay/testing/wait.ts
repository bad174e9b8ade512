import type { Multiaddr } from '@multiformats/multiaddr'

/** Polls `check` until it holds; tests wait on state, never on fixed sleeps. */
export { until } from '../../shared/testing/index.ts'

/** A node's loopback TCP listen address. */
export function tcpAddr (node: { getMultiaddrs: () => Multiaddr[] }): Multiaddr {
  const addr = node.getMultiaddrs().find(ma => ma.toString().startsWith('/ip4/127.0.0.1/tcp/') && !ma.toString().includes('/ws'))
  if (addr == null) throw new Error('no TCP address')
  return addr
}
