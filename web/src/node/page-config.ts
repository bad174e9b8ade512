import { InvalidConfigError } from '../../../shared/errors.ts'
import { fetchRelayAddrs, parseRelayAddr, selectRelayAddr } from '../../../shared/p2p-service/index.ts'
import { lastPeerId } from '../../../shared/util/index.ts'

export interface PageConfig {
  /** Relay multiaddrs to dial. Empty: ask the relay that served the page. */
  relays: string[]
  /** Where to read the serving relay's addresses. */
  statusUrl: string
  /** The status address came from `?status=` or the embedding site, not the relay that served the page. */
  statusConfigured: boolean
  /** STUN/TURN servers for WebRTC; none by default (same-LAN works without). */
  iceServers: RTCIceServer[]
}

declare global {
  interface Window {
    /** Set by a site embedding Golem Clay before the script loads. */
    GOLEM_CLAY_CONFIG?: Partial<PageConfig>
  }
}

/**
 * Page configuration from `window.GOLEM_CLAY_CONFIG` and the query string
 * (`?relay=<multiaddr>` repeatable, `?status=<url>`). Multiaddrs are checked
 * here so a typo shows as a clear message instead of endless retries.
 */
export function readPageConfig (location: Location = window.location): PageConfig {
  const params = new URLSearchParams(location.search)
  const embedded = window.GOLEM_CLAY_CONFIG ?? {}
  const relays = params.getAll('relay').length > 0 ? params.getAll('relay') : embedded.relays ?? []
  for (const relay of relays) {
    const ma = parseRelayAddr(relay)
    if (lastPeerId(ma) == null) throw new InvalidConfigError(`Relay address "${relay}" must end with /p2p/<peer ID>`)
  }
  const configured = params.get('status') ?? embedded.statusUrl
  // a typo here would otherwise be retried forever as if the relay were down
  if (configured != null && !URL.canParse(configured)) throw new InvalidConfigError(`Status address "${configured}" is not a URL`)
  return {
    relays,
    statusUrl: configured ?? new URL('/status', location.href).toString(),
    statusConfigured: configured != null,
    iceServers: embedded.iceServers ?? []
  }
}

/** Asks the serving relay for its addresses and picks the one this tab should dial. */
export async function fetchServingRelay (statusUrl: string, signal?: AbortSignal): Promise<string> {
  const url = new URL(statusUrl)
  const listed = await fetchRelayAddrs(url, signal)
  return selectRelayAddr(listed, { transport: 'websocket', host: url.hostname, secure: window.location.protocol === 'https:' }).toString()
}
