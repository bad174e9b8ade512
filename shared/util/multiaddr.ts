import type { Multiaddr } from '@multiformats/multiaddr'

/** The peer ID a multiaddr ends with (the target, for circuit addresses). */
export function lastPeerId (ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast(c => c.name === 'p2p')?.value
}
