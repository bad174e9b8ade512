import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, get } from 'node:http'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import selfsigned from 'selfsigned'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { debianTool } from '../testing/debian-tool.ts'
import type { ChildProcess } from 'node:child_process'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const run = promisify(execFile)
const SITE = new URL('./nginx.conf', import.meta.url).pathname
const LIVE = '/etc/letsencrypt/live/relay.example.org/'
const nginx = debianTool('nginx', 'nginx-light')
const cleanups: Array<() => Promise<void> | void> = []
let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gc-nginx-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  // nginx -t opens the certificate files: a self-signed pair where certbot's would be
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'relay.example.org' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'relay.example.org' }] }]
  })
  await mkdir(join(dir, 'live'))
  await writeFile(join(dir, 'live/fullchain.pem'), pems.cert)
  await writeFile(join(dir, 'live/privkey.pem'), pems.private, { mode: 0o600 })
})
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

/** An nginx.conf of its own (prefix, pid, logs, temp files in `dir`, so it runs without root) whose http block includes `site`. */
async function mainConfig (name: string, site: string): Promise<string> {
  const sitePath = join(dir, `${name}.site.conf`)
  await writeFile(sitePath, site.replaceAll(LIVE, `${dir}/live/`))
  const conf = join(dir, `${name}.nginx.conf`)
  await writeFile(conf, `pid ${dir}/${name}.pid;
error_log ${dir}/${name}.error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${sitePath};
}
`)
  return conf
}

/** nginx's own check (Debian's nginx): syntax, directives, certificate files. */
async function test (conf: string): Promise<{ ok: boolean, output: string }> {
  try {
    const { stdout, stderr } = await run(nginx.path, ['-t', '-p', dir, '-e', `${dir}/test.error.log`, '-c', conf])
    return { ok: true, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { ok: false, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return (server.address() as AddressInfo).port
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return port
}

async function httpsGet (port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'relay.example.org', headers: { host: 'relay.example.org', ...headers }, rejectUnauthorized: false }, res => {
      let body = ''
      res.on('data', (d) => { body += String(d) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe.skipIf(!nginx.available)('relay/deploy/nginx.conf', () => {
  it('passes nginx -t inside an http block, with certbot\'s certificate paths, WebSocket upgrades and X-Forwarded-For', async () => {
    const site = await readFile(SITE, 'utf8')
    expect(site).toContain(`ssl_certificate     ${LIVE}fullchain.pem;`)
    expect(site).toContain(`ssl_certificate_key ${LIVE}privkey.pem;`)
    expect(site).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;')
    expect(site).toContain('--trusted-proxy 127.0.0.1/32')
    expect(site).toContain('--announce /dns4/relay.example.org/tcp/443/tls/ws,/dns4/relay.example.org/tcp/9091')
    const result = await test(await mainConfig('valid', site))
    expect(result.output).toContain('test is successful')
    expect(result.ok).toBe(true)
  })

  it('the check can fail: a broken copy, or one whose certificate is missing, does not pass', async () => {
    const site = await readFile(SITE, 'utf8')
    const broken = await test(await mainConfig('broken', site.replace('proxy_http_version 1.1;', 'proxy_http_version 1.1')))
    expect(broken.ok).toBe(false)
    const noCert = await test(await mainConfig('no-cert', site.replaceAll(`${LIVE}fullchain.pem`, `${LIVE}missing.pem`)))
    expect(noCert.ok).toBe(false)
    expect(noCert.output).toContain('missing.pem')
  })

  it('in front of stand-ins for the relay: the page to --http-port, WebSockets to --ws-port, each with the client\'s address in X-Forwarded-For', async () => {
    const seen: { http: IncomingHttpHeaders[], ws: IncomingHttpHeaders[] } = { http: [], ws: [] }
    const page = createServer((req, res) => {
      seen.http.push(req.headers)
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })
    const httpPort = await listen(page)
    const wsServer = createServer((req, res) => { seen.ws.push(req.headers); res.statusCode = 426; res.end() })
    const wss = new WebSocketServer({ server: wsServer })
    wss.on('connection', (socket, req) => {
      seen.ws.push(req.headers)
      socket.on('message', (data) => { socket.send(`echo ${String(data)}`) })
    })
    cleanups.push(() => { wss.close() })
    const wsPort = await listen(wsServer)
    const ports = { https: await freePort(), http: await freePort() }
    const site = (await readFile(SITE, 'utf8'))
      .replace(/^\s*listen \[::\]:\d+( ssl)?;\n/gm, '')
      .replace('listen 443 ssl;', `listen 127.0.0.1:${ports.https} ssl;`)
      .replace('listen 80;', `listen 127.0.0.1:${ports.http};`)
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${httpPort};`)
      .replace('server 127.0.0.1:9090;', `server 127.0.0.1:${wsPort};`)
    const conf = await mainConfig('live', site)
    expect((await test(conf)).ok).toBe(true)
    const proxy: ChildProcess = spawn(nginx.path, ['-p', dir, '-e', `${dir}/live.error.log`, '-c', conf, '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    proxy.stderr?.on('data', (d) => { output += String(d) })
    cleanups.push(async () => { if (proxy.exitCode == null) { proxy.kill('SIGQUIT'); await new Promise(resolve => proxy.once('exit', resolve)) } })
    // nginx is up once it answers
    for (let i = 0; i < 100; i++) {
      if (await httpsGet(ports.https, '/healthz').then(() => true, () => false)) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }

    // a client that claims an address: nginx appends the one it saw, which the relay trusts from 127.0.0.1 only
    const status = await httpsGet(ports.https, '/status', { 'x-forwarded-for': '203.0.113.7' })
    expect(status, output).toEqual({ status: 200, body: '{"ok":true}' })
    const pageRequest = seen.http.at(-1)
    expect(pageRequest?.['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1')
    expect(pageRequest?.['x-forwarded-proto']).toBe('https')
    expect(pageRequest?.host).toBe('relay.example.org')

    const socket = new WebSocket(`wss://127.0.0.1:${ports.https}/`, { headers: { host: 'relay.example.org' }, rejectUnauthorized: false })
    const reply = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => { socket.send('hello') })
      socket.on('message', (data) => { resolve(String(data)) })
      socket.on('error', reject)
    })
    socket.close()
    expect(reply).toBe('echo hello')
    expect(seen.ws).toHaveLength(1)
    expect(seen.ws[0]?.['x-forwarded-for']).toBe('127.0.0.1')
    expect(seen.http.every(h => h.upgrade == null)).toBe(true)

    // plain HTTP only redirects (and would serve certbot's challenge)
    const redirect = await new Promise<{ status?: number, location?: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port: ports.http, path: '/status', headers: { host: 'relay.example.org' } }, res => {
        res.resume()
        resolve({ status: res.statusCode, location: res.headers.location })
      }).on('error', reject)
    })
    expect(redirect).toEqual({ status: 301, location: 'https://relay.example.org/status' })
  }, 30_000)
})
