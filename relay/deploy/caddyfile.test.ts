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

/** Caddy's own check of a Caddyfile (Debian's caddy), with a home of its own. */
async function validate (file: string): Promise<{ ok: boolean, output: string }> {
  const home = await mkdtemp(join(tmpdir(), 'gc-caddy-'))
  dirs.push(home)
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, GOLEM_CLAY_DOMAIN: 'relay.example.org' }
  try {
    const { stdout, stderr } = await run('caddy', ['validate', '--config', file, '--adapter', 'caddyfile'], { env })
    return { ok: true, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { ok: false, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

describe('Caddy in front of a relay', () => {
  it('relay/deploy/Caddyfile is valid: HTTPS for the page, WebSocket upgrades to the libp2p port', async () => {
    const text = await readFile(CADDYFILE, 'utf8')
    expect(text).toContain('reverse_proxy @websocket 127.0.0.1:9090')
    expect(text).toContain('reverse_proxy 127.0.0.1:8080')
    const result = await validate(CADDYFILE)
    expect(result.output).toContain('Valid configuration')
    expect(result.ok).toBe(true)
  })

  it('the check can fail: a broken Caddyfile does not pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-caddyfile-'))
    dirs.push(dir)
    const broken = join(dir, 'Caddyfile')
    await writeFile(broken, (await readFile(CADDYFILE, 'utf8')).replace('reverse_proxy 127.0.0.1:8080', 'reverse_proxy_to 127.0.0.1:8080'))
    expect((await validate(broken)).ok).toBe(false)
  })
})
