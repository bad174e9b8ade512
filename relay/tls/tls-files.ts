import { X509Certificate } from 'node:crypto'
import { watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { createSecureContext } from 'node:tls'
import { TypedEventEmitter } from 'main-event'
import { logger } from '@libp2p/logger'
import { InvalidConfigError } from '../../shared/errors.ts'
import type { FSWatcher } from 'node:fs'
import type { SecureContextOptions } from 'node:tls'

const log = logger('golem-clay:tls')

/** The certificate or key files can't be used (unreadable, not PEM, not a pair). */
export class TlsFilesError extends InvalidConfigError { override name = 'TlsFilesError'; override readonly code = 'TLS_FILES' }

export interface TlsFilesInit {
  /** PEM certificate chain (certbot's fullchain.pem). */
  certFile: string
  /** PEM private key (certbot's privkey.pem). */
  keyFile: string
  /** Quiet time after a change on disk before reading (a renewal writes several files). @default 500 */
  settleMs?: number
}

export interface TlsCertificateInfo {
  subject: string
  /** Names and addresses the certificate is valid for. */
  altNames: string
  validTo: string
  fingerprint256: string
}

export interface TlsFilesEvents {
  /** New files are in use (by every server added with `serve`). */
  'tls:reload': CustomEvent<TlsCertificateInfo & { trigger: string }>
  /** Files changed but can't be used; the previous pair stays in use. */
  'tls:error': CustomEvent<{ error: Error, trigger: string }>
}

/** Anything with Node's TLS server `setSecureContext` (https.Server, tls.Server). */
export interface SecureContextTarget {
  setSecureContext: (options: SecureContextOptions) => void
}

/**
 * The relay's certificate and key: read and checked at start, then reloaded
 * into every server using them when the files change (certbot renewals swap
 * symlinks in their folder, so the folders are watched) or on `reload()`
 * (SIGHUP). Open connections keep their session; new ones get the new pair.
 * A half-written or mismatched pair is refused and the old one kept.
 */
export class TlsFiles extends TypedEventEmitter<TlsFilesEvents> {
  private readonly init: TlsFilesInit
  private pair: { cert: string, key: string } = { cert: '', key: '' }
  private readonly targets = new Set<SecureContextTarget>()
  private watchers: FSWatcher[] = []
  private settleTimer?: ReturnType<typeof setTimeout>

  constructor (init: TlsFilesInit) {
    super()
    this.init = init
  }

  /** The pair in use, for a server being created. */
  get options (): { cert: string, key: string } {
    return this.pair
  }

  get info (): TlsCertificateInfo {
    return describe(this.pair.cert)
  }

  /** Reads the files; throws TlsFilesError naming the problem. */
  async load (): Promise<void> {
    this.pair = await this.read()
  }

  /** Servers to update on reload. */
  serve (target: SecureContextTarget): void {
    this.targets.add(target)
  }

  start (): void {
    if (this.watchers.length > 0) return
    for (const folder of new Set([dirname(this.init.certFile), dirname(this.init.keyFile)])) {
      const names = new Set([basename(this.init.certFile), basename(this.init.keyFile)])
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        // some editors and certbot touch other files there; a null name means "something changed"
        if (name != null && !names.has(name.toString()) && !name.toString().startsWith('..')) return
        this.scheduleReload('file change')
      })
      watcher.on('error', (err) => { log.error('watching %s failed - %e', folder, err) })
      this.watchers.push(watcher)
    }
  }

  stop (): void {
    for (const watcher of this.watchers) watcher.close()
    this.watchers = []
    clearTimeout(this.settleTimer)
  }

  /** Reads the files again and hands them to every server; keeps the old pair if they can't be used. */
  async reload (trigger = 'reload'): Promise<boolean> {
    let pair
    try {
      pair = await this.read()
    } catch (error: any) {
      log.error('reload (%s) refused - %e', trigger, error)
      this.safeDispatchEvent('tls:error', { detail: { error, trigger } })
      return false
    }
    if (pair.cert === this.pair.cert && pair.key === this.pair.key) return false
    for (const target of this.targets) target.setSecureContext(pair)
    this.pair = pair
    this.safeDispatchEvent('tls:reload', { detail: { ...describe(pair.cert), trigger } })
    return true
  }

  private scheduleReload (trigger: string): void {
    clearTimeout(this.settleTimer)
    this.settleTimer = setTimeout(() => { void this.reload(trigger) }, this.init.settleMs ?? 500)
  }

  private async read (): Promise<{ cert: string, key: string }> {
    const [cert, key] = await Promise.all([readPem(this.init.certFile, '--tls-cert'), readPem(this.init.keyFile, '--tls-key')])
    try {
      // throws on a key that doesn't match the certificate, or either not being PEM
      createSecureContext({ cert, key })
      new X509Certificate(cert) // eslint-disable-line no-new
    } catch (err: any) {
      throw new TlsFilesError(`--tls-cert ${this.init.certFile} and --tls-key ${this.init.keyFile} are not a usable certificate and key: ${String(err.message)}`)
    }
    return { cert, key }
  }
}

async function readPem (path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err: any) {
    throw new TlsFilesError(`Cannot read ${flag} ${path}: ${String(err.code ?? err.message)}`)
  }
}

function describe (cert: string): TlsCertificateInfo {
  const x509 = new X509Certificate(cert)
  return { subject: x509.subject.replace(/\n/g, ', '), altNames: x509.subjectAltName ?? '', validTo: new Date(x509.validTo).toISOString(), fingerprint256: x509.fingerprint256 }
}

export function tlsFiles (init: TlsFilesInit): TlsFiles {
  return new TlsFiles(init)
}
