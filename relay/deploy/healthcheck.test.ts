import { execFile } from 'node:child_process'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { promisify } from 'node:util'
import selfsigned from 'selfsigned'
import { afterAll, describe, expect, it } from 'vitest'
import type { RequestListener, Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// The image's HEALTHCHECK script against stand-ins for the relay's /healthz;
// docker-image.test.ts runs it against the relay itself.
const run = promisify(execFile)
const SCRIPT = new URL('./healthcheck.mjs', import.meta.url).pathname
const servers: Server[] = []
afterAll(async () => { await Promise.all(servers.map(async s => { s.closeAllConnections(); await new Promise(resolve => s.close(resolve)) })) })

async function serve (server: Server, handler: RequestListener): Promise<number> {
  server.on('request', handler)
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** Runs the script with only the given env, as Docker would with the container's. */
async function healthcheck (env: Record<string, string>, args: string[] = []): Promise<{ code: number, output: string }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, ...args], { env })
    return { code: 0, output: stdout }
  } catch (err: any) {
    return { code: err.code ?? 1, output: String(err.stdout) }
  }
}

const healthz = (status: number, body: string): RequestListener => (req, res) => {
  res.statusCode = req.url === '/healthz' ? status : 404
  res.end(req.url === '/healthz' ? body : '')
}

describe('relay/deploy/healthcheck.mjs', () => {
  it('asks http://127.0.0.1:<GOLEM_CLAY_HTTP_PORT>/healthz, exit 0 on 200 {"ok":true}', async () => {
    const port = await serve(createHttpServer(), healthz(200, '{"ok":true}'))
    expect(await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(port) })).toEqual({ code: 0, output: `http://127.0.0.1:${port}/healthz: healthy\n` })
    expect((await healthcheck({}, [`http://127.0.0.1:${port}/healthz`])).code).toBe(0)
  })

  it('speaks HTTPS when the relay has a certificate (any: it names the domain, not 127.0.0.1)', async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'relay.example.org' }], { keyType: 'ec', algorithm: 'sha256' })
    const port = await serve(createHttpsServer({ cert: pems.cert, key: pems.private }), healthz(200, '{"ok":true}'))
    const result = await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(port), GOLEM_CLAY_TLS_CERT: '/etc/golem-clay/tls/fullchain.pem' })
    expect(result).toEqual({ code: 0, output: `https://127.0.0.1:${port}/healthz: healthy\n` })
    // plain HTTP to an HTTPS port fails
    expect((await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(port) })).code).toBe(1)
  })

  it('exit 1 on 503, on a body that is not {"ok":true}, and when nothing listens', async () => {
    const down = await serve(createHttpServer(), healthz(503, '{"ok":false}'))
    expect(await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(down) })).toEqual({ code: 1, output: `http://127.0.0.1:${down}/healthz: HTTP 503 {"ok":false}\n` })
    const odd = await serve(createHttpServer(), healthz(200, 'fine'))
    expect((await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(odd) })).code).toBe(1)
    const closed = createHttpServer()
    const port = await serve(closed, healthz(200, '{"ok":true}'))
    await new Promise(resolve => closed.close(resolve))
    servers.splice(servers.indexOf(closed), 1)
    const gone = await healthcheck({ GOLEM_CLAY_HTTP_PORT: String(port) })
    expect(gone.code).toBe(1)
    expect(gone.output).toContain('ECONNREFUSED')
  })
})
