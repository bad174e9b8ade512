#!/usr/bin/env node
// The relay image's HEALTHCHECK (relay/deploy/Dockerfile): exit 0 when the
// relay's /healthz answers 200 {"ok":true}, 1 otherwise. Plain JavaScript on
// node:http(s), so it starts fast and needs neither tsx nor curl (slim images
// have none). It reads the relay's own settings from the container's env:
//   GOLEM_CLAY_HTTP_PORT (default 8080), GOLEM_CLAY_HOST when it is one address,
//   and HTTPS when GOLEM_CLAY_TLS_CERT is set.
// An explicit URL may be given instead: node healthcheck.mjs http://127.0.0.1:8080/healthz
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

const TIMEOUT_MS = 4000

function healthzUrl (env) {
  const port = env.GOLEM_CLAY_HTTP_PORT != null && env.GOLEM_CLAY_HTTP_PORT !== '' ? env.GOLEM_CLAY_HTTP_PORT : '8080'
  const tls = env.GOLEM_CLAY_TLS_CERT != null && env.GOLEM_CLAY_TLS_CERT !== ''
  const host = env.GOLEM_CLAY_HOST == null || env.GOLEM_CLAY_HOST === '' || env.GOLEM_CLAY_HOST === '0.0.0.0' ? '127.0.0.1' : env.GOLEM_CLAY_HOST === '::' ? '::1' : env.GOLEM_CLAY_HOST
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`
}

function check (url) {
  return new Promise((resolve) => {
    const target = new URL(url)
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest
    // the certificate names the relay's domain, not 127.0.0.1: this asks the relay itself, so any certificate will do
    const req = request(target, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { if (body.length < 4096) body += chunk })
      res.on('end', () => {
        let ok = false
        try { ok = JSON.parse(body).ok === true } catch {}
        resolve(res.statusCode === 200 && ok ? { ok: true, why: 'healthy' } : { ok: false, why: `HTTP ${res.statusCode} ${body.slice(0, 200)}` })
      })
    })
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)) })
    req.on('error', (err) => { resolve({ ok: false, why: err.message }) })
    req.end()
  })
}

const url = process.argv[2] ?? healthzUrl(process.env)
const result = await check(url)
process.stdout.write(`${url}: ${result.why}\n`)
process.exit(result.ok ? 0 : 1)
