import { fetchRelayAddrs, parseRelayAddr, selectRelayAddr } from '../../shared/p2p-service/index.ts'
import { InvalidConfigError } from '../../shared/errors.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Turns a `--relay` value into a multiaddr to dial: multiaddrs are used as
 * given, `http(s)://` URLs are asked for their addresses via `/status`.
 */
export async function resolveRelay (value: string, signal?: AbortSignal): Promise<Multiaddr> {
  if (!/^https?:\/\//i.test(value)) {
    const ma = parseRelayAddr(value)
    if (ma.getComponents().every(c => c.name !== 'p2p')) {
      throw new InvalidConfigError(`Relay address "${value}" must end with /p2p/<peer ID>, or be the relay's http:// URL`)
    }
    return ma
  }
  let url: URL
  try {
    url = new URL('/status', value)
  } catch {
    throw new InvalidConfigError(`"${value}" is not a valid URL`)
  }
  const listed = await fetchRelayAddrs(url, signal)
  return selectRelayAddr(listed, { transport: 'tcp', host: url.hostname })
}
