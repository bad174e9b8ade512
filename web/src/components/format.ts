import { CONNECTION_KIND_LABEL } from '../../../shared/connection/index.ts'
import type { ConnectionKind } from '../../../shared/connection/index.ts'

export function shortId (id: string | undefined): string {
  if (id == null) return '…'
  return id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

/** A stable colour per peer so people can tell peers apart at a glance. */
export function peerHue (id: string): number {
  let h = 0
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0
  return h % 360
}

export function formatRtt (rtt: number | undefined): string {
  if (rtt == null) return '—'
  return rtt < 10 ? `${rtt.toFixed(1)} ms` : `${Math.round(rtt)} ms`
}

export function kindLabel (kind: ConnectionKind | undefined): string {
  return kind == null ? 'Not connected' : CONNECTION_KIND_LABEL[kind]
}

export function secondsUntil (at: number | undefined, now: number): number {
  return at == null ? 0 : Math.max(0, Math.ceil((at - now) / 1000))
}

export function relayHost (addr: string): string {
  const parts = addr.split('/')
  return parts.length > 4 ? `${parts[2]}:${parts[4]}` : addr
}
