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

/**
 * A count with its noun: "1 relay", "3 relays", "0 tabs". One place for
 * every plural on the page (pass the plural when adding "s" is wrong).
 */
export function plural (count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en')} ${count === 1 ? one : many}`
}

/** A duration for people: "850 ms", "1.2 s", "2 min 5 s". */
export function formatMs (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min${s % 60 > 0 ? ` ${s % 60} s` : ''}`
}
