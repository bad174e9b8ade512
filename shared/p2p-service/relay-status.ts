import { GolemClayError } from '../errors.ts'
/** A relay's `/status` could not be read or was unusable; worth retrying. */
export class RelayStatusError extends GolemClayError { override name = 'RelayStatusError'; override readonly code = 'RELAY_STATUS' }

/** Reads the multiaddrs a relay lists in its `/status` JSON. */
export async function fetchRelayAddrs (statusUrl: URL, signal?: AbortSignal): Promise<string[]> {
  let res: Response
  try {
    res = await fetch(statusUrl, { signal, cache: 'no-store' })
  } catch (err: any) {
    const code = err?.cause?.code != null ? ` (${String(err.cause.code)})` : ''
    throw new RelayStatusError(`Relay at ${statusUrl.host} is unreachable${code}`)
  }
  if (!res.ok) throw new RelayStatusError(`Relay at ${statusUrl.host} answered HTTP ${res.status}`)
  const body = await res.json().catch(() => null) as { multiaddrs?: unknown } | null
  if (body == null || !Array.isArray(body.multiaddrs)) throw new RelayStatusError(`Relay at ${statusUrl.host} sent no address list`)
  return body.multiaddrs.map(String)
}
