import { basename } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ANYONE, DEFAULT_SHARE_TTL, isShareLink, parseAddress, safeFileName } from '../../shared/storage/index.ts'
import { fileSink, fileSource } from './file-io.ts'
import { parseDuration } from './storage-config.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { ObjectAddress, TransferProgress } from '../../shared/storage/index.ts'
import { UsageError } from '../../shared/errors.ts'

export type Emit = (event: string, data: Record<string, unknown>, text: string) => void

export const STORAGE_COMMANDS_HELP = `  put <file> [--as <path>] [--ttl <duration>]
                           store a file on a relay, print its address
  get <address|link> <file>
                           fetch a stored object into <file>, checking its hash
  grant <address> <peer ID|anyone> [<duration>]
                           print a share link for that peer (or anyone holding it), and
                           until when it works (default 1d; never past the object's expiry)
  stat <address|link>      what the relay knows about an object
  rm <address>             delete an object you stored`

/** Text progress at most once a second; JSON progress at most every 250 ms. */
function progressPrinter (emit: Emit, label: string, json: boolean): (p: TransferProgress) => void {
  let last = 0
  let lastPhase = ''
  return (p) => {
    const now = Date.now()
    if (p.phase === lastPhase && p.bytes < p.total && now - last < (json ? 250 : 1000)) return
    last = now
    lastPhase = p.phase
    const pct = p.total === 0 ? 100 : Math.floor(p.bytes * 100 / p.total)
    const rate = p.rate > 0 ? ` · ${(p.rate / 1e6).toFixed(1)} MB/s` : ''
    const eta = p.etaMs != null && p.bytes < p.total ? ` · ETA ${Math.ceil(p.etaMs / 1000)} s` : ''
    const retry = p.phase === 'retrying' ? ` (attempt ${p.attempt}: ${p.reason ?? ''})` : ''
    emit('progress', { ...p }, `${label} ${p.phase} ${pct}% ${(p.bytes / 1e6).toFixed(1)}/${(p.total / 1e6).toFixed(1)} MB${rate}${eta}${retry}`)
  }
}

/** Splits off `--flag value` options; the rest stays positional (so paths may hold spaces). */
function options (args: string[], names: string[]): { rest: string[], values: Record<string, string> } {
  const rest: string[] = []
  const values: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const name = (args[i] as string).replace(/^--/, '')
    if ((args[i] as string).startsWith('--') && names.includes(name) && args[i + 1] != null) {
      values[name] = args[++i] as string
    } else {
      rest.push(args[i] as string)
    }
  }
  return { rest, values }
}

/** `anyone` (any case) is the grantee of a public link. */
function granteeOf (text: string): string {
  return text.toLowerCase() === 'anyone' ? ANYONE : text
}

/** A share link's lifetime from the command line, in ms. */
function shareTtl (text: string | undefined): number {
  if (text == null) return DEFAULT_SHARE_TTL
  try {
    return parseDuration(text, 'duration') * 1000
  } catch {
    throw new UsageError(`"${text}" is not a duration: use e.g. 30m, 12h or 7d`)
  }
}

/** The Node peer's storage commands, for its console. */
export function storageCommands (node: NodePeer, emit: Emit, json = false): Record<string, (args: string[]) => Promise<void>> {
  return {
    put: async (args) => {
      const { rest, values } = options(args, ['as', 'ttl'])
      const file = rest.join(' ')
      if (file === '') throw new UsageError('usage: put <file> [--as <path>] [--ttl <duration>]')
      const source = await fileSource(file)
      try {
        // a fresh folder per upload, so names never clash with earlier uploads
        const path = values.as ?? `${randomBytes(4).toString('hex')}/${safeFileName(basename(file))}`
        const ttl = values.ttl != null ? parseDuration(values.ttl, 'ttl') : undefined
        const result = await node.services.storage.put(source, { path, ttl, onProgress: progressPrinter(emit, 'put', json) })
        const o = result.object
        emit('stored', { address: result.address, drive: o.drive, path: o.path, size: o.size, sha256: o.sha256, relays: o.relays, expiresAt: o.expiresAt, deduplicated: result.deduplicated },
          `stored ${file} (${o.size} bytes, sha256 ${o.sha256})${result.deduplicated ? ' — already there' : ''}\naddress: ${result.address}`)
      } finally {
        await source.close()
      }
    },
    get: async ([address, ...fileParts]) => {
      const file = fileParts.join(' ')
      if (address == null || file === '') throw new UsageError('usage: get <address|link> <file>')
      // a link is looked up first: its size (checked against the disk before anything is written) comes from the relay
      const a: ObjectAddress = isShareLink(address) ? (await node.services.storage.resolve(address)).address : parseAddress(address)
      const sink = await fileSink(file, a.size)
      try {
        const object = await node.services.storage.get(a, sink, { onProgress: progressPrinter(emit, 'get', json) })
        await sink.finish()
        emit('fetched', { file, size: object.size, sha256: object.sha256, resumedFrom: sink.resumeFrom ?? 0 }, `fetched ${object.size} bytes into ${file} (sha256 ${object.sha256} checked)`)
      } finally {
        await sink.close()
      }
    },
    grant: async ([address, peer, duration]) => {
      if (address == null || peer == null) throw new UsageError('usage: grant <address> <peer ID|anyone> [<duration>]')
      const shared = await node.services.storage.share(address, { grantee: granteeOf(peer), ttl: shareTtl(duration) })
      const who = shared.grantee === ANYONE ? 'anyone holding it' : shared.grantee
      const until = new Date(shared.expiresAt).toISOString()
      emit('granted', { link: shared.link, peer: shared.grantee, expiresAt: shared.expiresAt }, `share link for ${who}, works until ${until}:\n${shared.link}`)
    },
    stat: async ([address]) => {
      if (address == null) throw new UsageError('usage: stat <address>')
      const o = await node.services.storage.stat(address)
      emit('object', { ...o }, `${o.path}: ${o.size} bytes, sha256 ${o.sha256}, owner ${o.owner}, expires ${new Date(o.expiresAt).toISOString()}, on ${o.relays.length} relay address(es)`)
    },
    rm: async ([address]) => {
      if (address == null) throw new UsageError('usage: rm <address>')
      await node.services.storage.remove(address)
      emit('removed', { address }, 'deleted')
    }
  }
}
