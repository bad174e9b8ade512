import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const CADDYFILE = new URL('./Caddyfile', import.meta.url).pathname
const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

/** Caddy's own check of a Caddyfile (Debian's caddy), with a home of its own; `command` adapt prints the JSON it becomes. */
async function validate (file: string, vars: Record<string, string> = {}, command: 'validate' | 'adapt' = 'validate'): Promise<{ ok: boolean, output: string }> {
  const home = await mkdtemp(join(tmpdir(), 'gc-caddy-'))
  dirs.push(home)
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, GOLEM_CLAY_DOMAIN: 'relay.example.org', ...vars }
  try {
    const { stdout, stderr } = await run('caddy', [command, '--config', file, '--adapter', 'caddyfile'], { env })
    return { ok: true, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { ok: false, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

/** Where the adapted config sends requests. */
async function upstreams (vars: Record<string, string> = {}): Promise<string[]> {
  const { ok, output } = await validate(CADDYFILE, vars, 'adapt')
  expect(ok, output).toBe(true)
  return [...output.matchAll(/"dial":"([^"]+)"/g)].map(m => m[1] ?? '')
}

describe('Caddy in front of a relay', () => {
  it('relay/deploy/Caddyfile is valid: HTTPS for the page, WebSocket upgrades to the libp2p port', async () => {
    const text = await readFile(CADDYFILE, 'utf8')
    expect(text).toContain('reverse_proxy @websocket {$GOLEM_CLAY_WS_UPSTREAM:127.0.0.1:9090}')
    expect(text).toContain('reverse_proxy {$GOLEM_CLAY_HTTP_UPSTREAM:127.0.0.1:8080}')
    const result = await validate(CADDYFILE)
    expect(result.output).toContain('Valid configuration')
    expect(result.ok).toBe(true)
  })

  it('proxies to this machine\'s relay ports, or to compose.yaml\'s relay container when told', async () => {
    expect(await upstreams()).toEqual(['127.0.0.1:9090', '127.0.0.1:8080'])
    expect(await upstreams({ GOLEM_CLAY_WS_UPSTREAM: 'relay:9090', GOLEM_CLAY_HTTP_UPSTREAM: 'relay:8080' })).toEqual(['relay:9090', 'relay:8080'])
  })

  it('the check can fail: a broken Caddyfile does not pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-caddyfile-'))
    dirs.push(dir)
    const broken = join(dir, 'Caddyfile')
    await writeFile(broken, (await readFile(CADDYFILE, 'utf8')).replace('reverse_proxy {$GOLEM_CLAY_HTTP_UPSTREAM', 'reverse_proxy_to {$GOLEM_CLAY_HTTP_UPSTREAM'))
    expect((await validate(broken)).ok).toBe(false)
  })
})
