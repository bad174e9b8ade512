import type { Multiaddr } from '@multiformats/multiaddr'

/** The peer ID a multiaddr ends with (the target, for circuit addresses). */
export function lastPeerId (ma: Multiaddr): string | undefined {
  const components = ma.getComponents()
  for (let i = components.length - 1; i >= 0; i--) {
    if (components[i]?.name === 'p2p') return components[i]?.value
  }
  return undefined
}
