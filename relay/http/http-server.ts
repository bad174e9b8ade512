import { timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { join } from 'node:path'
import sirv from 'sirv'
import { setSandboxHeaders } from './sandbox-headers.ts'
import { InvalidMessageError } from '../../shared/errors.ts'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SecureContextOptions } from 'node:tls'

export interface HttpServerInit {
  host: string
  port: number
  /** Folder with the built web page; a hint page is served when it is missing. */
  webRoot: string
  /** JSON for `GET /status`; `detailed` for a caller holding the status token. */
  status: (detailed: boolean) => unknown
  /** Bearer token that lets a caller see peer IDs in /status. @default none (nobody) */
  statusToken?: string
  /** HTTPS with this certificate (e.g. from TlsFiles, which replaces it on reload). @default plain HTTP */
  tls?: { options: { cert: string, key: string }, serve: (server: { setSecureContext: (options: SecureContextOptions) => void }) => void }
  /** Whether `GET /healthz` reports healthy. */
  healthy: () => boolean
  /** More JSON endpoints (e.g. the dashboard's), answered before the page. @default none */
  routes?: HttpRoute[]
  /** Endpoints that answer any method themselves (e.g. the chain's, with POST), by path prefix. @default none */
  handlers?: HttpHandler[]
}

/** Handles every request to `prefix` and below (`/chain`, `/chain/rpc`, …), whatever its method. */
export interface HttpHandler {
  prefix: string
  handle: (req: IncomingMessage, res: ServerResponse) => void
}

/** A JSON endpoint at one exact path, for GET and HEAD. */
export interface HttpRoute {
  path: string
  /** The body; `operator` when the caller sent the status token, `query` the URL's parameters. Throwing InvalidMessageError answers 400 with its message and code. */
  json: (request: { operator: boolean, query: URLSearchParams }) => unknown
}

export interface HttpServer {
  server: Server
  url: string
  port: number
  close: () => Promise<void>
}

/** Serves the web page, `/status` and `/healthz` next to the relay. */
export async function startHttpServer (init: HttpServerInit): Promise<HttpServer> {
  const hasPage = existsSync(join(init.webRoot, 'index.html'))
  // dev mode re-reads the folder per request, so a rebuilt page is served without a restart
  const serveStatic = hasPage ? sirv(init.webRoot, { single: true, etag: true, gzip: false, maxAge: 0, dev: true, setHeaders: setSandboxHeaders }) : undefined

  // anonymous callers share one answer a second: /status walks every session, ban and peer
  let cached: { at: number, body: unknown } | undefined
  const anonymousStatus = (): unknown => {
    if (cached == null || Date.now() - cached.at > 1_000) cached = { at: Date.now(), body: init.status(false) }
    return cached.body
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res)
    } catch (err: any) {
      sendJson(res, 500, { error: 'internal error' })
    }
  }
  const server: Server = init.tls != null ? createHttpsServer({ ...init.tls.options }, handle) : createServer(handle)
  if (init.tls != null) init.tls.serve(server as import('node:https').Server)

  function route (req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    res.setHeader('X-Content-Type-Options', 'nosniff')
    const handler = init.handlers?.find(h => path === h.prefix || path?.startsWith(`${h.prefix}/`) === true)
    if (handler != null) {
      handler.handle(req, res)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendJson(res, 405, { error: 'method not allowed' })
      return
    }
    if (path === '/status') {
      // widget pages on other origins read the relay's addresses from here
      res.setHeader('Access-Control-Allow-Origin', '*')
      sendJson(res, 200, hasToken(req, init.statusToken) ? init.status(true) : anonymousStatus())
      return
    }
    if (path === '/healthz') {
      const ok = init.healthy()
      sendJson(res, ok ? 200 : 503, { ok })
      return
    }
    const extra = init.routes?.find(r => r.path === path)
    if (extra != null) {
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '')
      let body: unknown
      try {
        body = extra.json({ operator: hasToken(req, init.statusToken), query })
      } catch (err) {
        if (err instanceof InvalidMessageError) sendJson(res, 400, { error: err.message, code: err.code })
        else sendJson(res, 500, { error: 'internal error' })
        return
      }
      sendJson(res, 200, body, false)
      return
    }
    if (serveStatic == null) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end(`The web page is not built: run "npm run build" (looked in ${init.webRoot}).\n`)
      return
    }
    serveStatic(req, res, () => sendJson(res, 404, { error: 'not found' }))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port, init.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const shownHost = init.host === '0.0.0.0' || init.host === '::' ? 'localhost' : init.host.includes(':') ? `[${init.host}]` : init.host
  return {
    server,
    port,
    url: `${init.tls != null ? 'https' : 'http'}://${shownHost}:${port}/`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

/** `Authorization: Bearer <token>` matches the configured token (compared in constant time). */
function hasToken (req: IncomingMessage, token: string | undefined): boolean {
  if (token == null) return false
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  if (given == null) return false
  const [a, b] = [Buffer.from(given), Buffer.from(token)]
  return a.length === b.length && timingSafeEqual(a, b)
}

/** `pretty` for people reading /status; routes send long arrays, compact. */
function sendJson (res: ServerResponse, code: number, body: unknown, pretty = true): void {
  const text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(text)
}
