import { blobSource, DEFAULT_SHARE_TTL, isShareLink, memorySink, ObjectTooLargeError, parseAddress, parseShareLink, safeFileName } from '../../../shared/storage/index.ts'
import type { ObjectAddress, ObjectInfo } from '../../../shared/storage/index.ts'
import type { TransferProgress } from '../../../shared/storage/index.ts'
import { persistedList } from '../node/persisted-list.ts'
import type { PersistedList } from '../node/persisted-list.ts'
import type { NodeState } from '../node/node-state.svelte.ts'
import { NotStartedError, UsageError } from '../../../shared/errors.ts'

/** A share link made for an upload: who may use it, until when. */
export interface ShareView {
  /** A peer ID, or ANYONE. */
  grantee: string
  /** `golem-clay:share/<id>?relay=…` */
  link: string
  createdAt: number
  expiresAt: number
}

export interface UploadView {
  id: string
  name: string
  size: number
  state: 'running' | 'done' | 'failed'
  progress?: TransferProgress
  /** Each phase change, with the bytes done then: shows where a resumed transfer picked up. */
  history: PhaseStep[]
  /** Where it is stored: private, only the uploader can read with it. */
  address?: string
  object?: ObjectInfo
  deduplicated?: boolean
  /** Share links made for it, oldest first. */
  shared: ShareView[]
  error?: { name: string, message: string }
  startedAt: number
  finishedAt?: number
}

export interface DownloadView {
  id: string
  address: string
  name: string
  size: number
  state: 'running' | 'done' | 'failed'
  progress?: TransferProgress
  history: PhaseStep[]
  /** A blob: URL to save the file from, once verified. */
  url?: string
  sha256?: string
  error?: { name: string, message: string }
  startedAt: number
  finishedAt?: number
}

export interface PhaseStep { phase: TransferProgress['phase'], bytes: number, attempt: number }

/** How long a share link works: the choices the page offers, the default first among equals. */
export const SHARE_TTL_CHOICES: ReadonlyArray<{ label: string, ms: number }> = [
  { label: '1 hour', ms: 3600_000 },
  { label: '1 day', ms: DEFAULT_SHARE_TTL },
  { label: '7 days', ms: 7 * 86400_000 }
]

/** Uploads kept across reloads, per identity (their addresses are shown nowhere else). */
export const MAX_KEPT_UPLOADS = 100

/**
 * A tab holds a download in memory until it is saved: at most a quarter of
 * the device's memory (as the browser reports it, 4 GiB if it does not),
 * and never over 1 GiB.
 */
export function tabDownloadLimit (deviceMemoryGiB = (navigator as { deviceMemory?: number }).deviceMemory): number {
  const device = typeof deviceMemoryGiB === 'number' && deviceMemoryGiB > 0 ? deviceMemoryGiB * 2 ** 30 : 4 * 2 ** 30
  return Math.min(2 ** 30, Math.floor(device / 4))
}

export function formatSize (n: number): string {
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`
  return `${(n / 1e9).toFixed(1)} GB`
}

function track (view: { progress?: TransferProgress, history: PhaseStep[] }): (p: TransferProgress) => void {
  return (p) => {
    if (view.progress?.phase !== p.phase) view.history.push({ phase: p.phase, bytes: p.bytes, attempt: p.attempt })
    view.progress = p
  }
}

/** A random folder per upload, so the same file name never clashes. */
function uploadPath (name: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4))
  return `${[...bytes].map(b => b.toString(16).padStart(2, '0')).join('')}/${safeFileName(name)}`
}

function errorView (err: any): { name: string, message: string } {
  const cause = err?.name === 'TransferFailedError' && err.cause != null ? ` (${String(err.cause.name ?? 'Error')})` : ''
  return { name: String(err?.name ?? 'Error'), message: `${String(err?.message ?? err)}${cause}` }
}

/** A kept upload as the page shows it after a reload: one still running died with the page's node. */
function restoredUpload (u: UploadView): UploadView {
  if (u.state !== 'running') return u
  const { progress: _progress, ...rest } = u
  return { ...rest, state: 'failed', error: { name: 'UploadInterruptedError', message: 'The page was closed or reloaded during the upload; upload the file again' } }
}

/** The page's storage: uploads and downloads with their progress, over the tab's node. */
export class StorageState {
  uploads = $state<UploadView[]>([])
  downloads = $state<DownloadView[]>([])
  private kept?: PersistedList<UploadView>
  private owner?: string

  constructor (readonly app: NodeState) {
    // the upload list is kept per identity, loaded as soon as the tab knows its peer ID (before it has joined)
    $effect.root(() => {
      $effect(() => {
        const owner = this.app.peerId
        if (owner != null) void this.restore(owner)
      })
    })
  }

  get ready (): boolean {
    return this.app.phase === 'running' && this.app.online
  }

  /** Connected relays that offer storage. */
  async relays (): Promise<string[]> {
    return await this.app.node?.services.storage.relays() ?? []
  }

  async upload (file: File): Promise<UploadView> {
    const id = crypto.randomUUID()
    this.uploads.unshift({ id, name: file.name, size: file.size, state: 'running', shared: [], history: [], startedAt: Date.now() })
    const view = this.uploads.find(u => u.id === id) as UploadView
    this.keep()
    try {
      const node = this.app.node
      if (node == null) throw new NotStartedError('The node is not running yet')
      const result = await node.services.storage.put(blobSource(file), {
        path: uploadPath(file.name),
        onProgress: track(view)
      })
      view.address = result.address
      view.object = result.object
      view.deduplicated = result.deduplicated
      view.state = 'done'
    } catch (err: any) {
      view.error = errorView(err)
      view.state = 'failed'
    }
    view.finishedAt = Date.now()
    this.keep()
    return $state.snapshot(view) as UploadView
  }

  /**
   * A short link that lets `grantee` (a peer ID, or ANYONE holding the link)
   * download the upload for `ttl` ms, or until the file expires if sooner.
   */
  async share (uploadId: string, grantee: string, ttl = DEFAULT_SHARE_TTL): Promise<ShareView> {
    const view = this.uploads.find(u => u.id === uploadId)
    const node = this.app.node
    if (view?.address == null || node == null) throw new UsageError('Nothing to share yet')
    const to = grantee.trim()
    if (to === '') throw new UsageError('Choose who may download it')
    const result = await node.services.storage.share(view.address, { grantee: to, ttl })
    const share: ShareView = { grantee: result.grantee, link: result.link, createdAt: Date.now(), expiresAt: result.expiresAt }
    view.shared.push(share)
    this.keep()
    return share
  }

  /**
   * Downloads an address or a share link into memory. The address is
   * checked, and its size against what the tab can hold, before anything is
   * allocated; the buffer is made when the relay starts sending.
   */
  async download (address: string): Promise<DownloadView> {
    const id = crypto.randomUUID()
    const text = address.trim()
    this.downloads.unshift({ id, address: text, name: '', size: 0, state: 'running', history: [], startedAt: Date.now() })
    const view = this.downloads.find(d => d.id === id) as DownloadView
    try {
      // a malformed address is told at once, whatever the network does
      const link = isShareLink(text) ? parseShareLink(text) : undefined
      let a: ObjectAddress | undefined = link == null ? parseAddress(text) : undefined
      const node = this.app.node
      if (node == null) throw new NotStartedError('The node is not running yet')
      // a link's object, token and size come from the relay that keeps it
      a ??= (await node.services.storage.resolve(text)).address
      view.name = a.path.split('/').at(-1) ?? 'download'
      view.size = a.size
      const limit = tabDownloadLimit()
      if (a.size > limit) {
        throw new ObjectTooLargeError(`This file is ${formatSize(a.size)}; a tab keeps a download in memory and takes at most ${formatSize(limit)} here. Fetch it with a Node peer instead (get <address> <file>)`)
      }
      const sink = memorySink(a.size)
      const object = await node.services.storage.get(a, sink, { onProgress: track(view) })
      view.sha256 = object.sha256
      view.url = URL.createObjectURL(new Blob([sink.bytes() as Uint8Array<ArrayBuffer>]))
      view.state = 'done'
    } catch (err: any) {
      view.error = errorView(err)
      view.state = 'failed'
    }
    view.finishedAt = Date.now()
    return $state.snapshot(view) as DownloadView
  }

  /** Loads this identity's kept uploads; any made meanwhile stay on top. */
  private async restore (owner: string): Promise<void> {
    if (this.owner === owner) return
    this.owner = owner
    const kept = persistedList<UploadView>({ name: 'uploads', owner, max: MAX_KEPT_UPLOADS })
    const stored = await kept.load()
    if (this.owner !== owner) return
    this.kept = kept
    const present = new Set(this.uploads.map(u => u.id))
    // kept oldest first, shown newest first
    const restored = stored.filter(u => !present.has(u.id)).reverse().map(restoredUpload)
    this.uploads.push(...restored)
    if (present.size > 0 || stored.some(u => u.state === 'running')) this.keep()
  }

  /** Saves the upload list, oldest first (plain data: a $state proxy does not survive structured clone). */
  private keep (): void {
    void this.kept?.save($state.snapshot(this.uploads).slice().reverse())
  }
}
