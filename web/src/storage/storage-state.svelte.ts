import { blobSource, memorySink, parseAddress, safeFileName } from '../../../shared/storage/index.ts'
import type { ObjectInfo } from '../../../shared/storage/index.ts'
import type { TransferProgress } from '../../../shared/storage/index.ts'
import type { NodeState } from '../node/node-state.svelte.ts'
import { NotStartedError, UsageError } from '../../../shared/errors.ts'

export interface UploadView {
  id: string
  name: string
  size: number
  state: 'running' | 'done' | 'failed'
  progress?: TransferProgress
  /** Each phase change, with the bytes done then: shows where a resumed transfer picked up. */
  history: PhaseStep[]
  /** Where it is stored (only the uploader can read with this one). */
  address?: string
  object?: ObjectInfo
  deduplicated?: boolean
  /** Addresses with a read token for other peers. */
  shared: Array<{ peer: string, address: string }>
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

/** The page's storage: uploads and downloads with their progress, over the tab's node. */
export class StorageState {
  uploads = $state<UploadView[]>([])
  downloads = $state<DownloadView[]>([])

  constructor (readonly app: NodeState) {}

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
    return $state.snapshot(view) as UploadView
  }

  /** Makes an address that lets `peer` download the upload. */
  async share (uploadId: string, peer: string): Promise<string> {
    const view = this.uploads.find(u => u.id === uploadId)
    const node = this.app.node
    if (view?.address == null || node == null) throw new UsageError('Nothing to share yet')
    const address = await node.services.storage.grant(view.address, peer.trim(), { ttl: 24 * 3600 * 1000 })
    view.shared.push({ peer: peer.trim(), address })
    return address
  }

  async download (address: string): Promise<DownloadView> {
    const id = crypto.randomUUID()
    const text = address.trim()
    this.downloads.unshift({ id, address: text, name: '', size: 0, state: 'running', history: [], startedAt: Date.now() })
    const view = this.downloads.find(d => d.id === id) as DownloadView
    try {
      const node = this.app.node
      if (node == null) throw new NotStartedError('The node is not running yet')
      const a = parseAddress(text)
      view.name = a.path.split('/').at(-1) ?? 'download'
      view.size = a.size
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
}
