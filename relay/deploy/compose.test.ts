import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { debianTool } from '../testing/debian-tool.ts'

const run = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '')
const COMPOSE = join(ROOT, 'relay/deploy/compose.yaml')
const compose = debianTool('docker-compose', 'docker-compose')
const dirs: string[] = []
let scratch = ''
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gc-compose-'))
  dirs.push(scratch)
  await writeFile(join(scratch, 'empty.env'), '')
})
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

/**
 * Compose's own reading of a file (Debian's docker-compose, no daemon
 * needed): schema, interpolation, paths. Hermetic: no .env of the caller's,
 * only the variables given.
 */
async function config (file: string, profiles: string[] = [], vars: Record<string, string> = {}): Promise<{ ok: boolean, output: string }> {
  const args = ['-f', file, '--env-file', join(scratch, 'empty.env'), ...profiles.flatMap(p => ['--profile', p]), 'config']
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, ...vars }
  try {
    const { stdout, stderr } = await run(compose.path, args, { cwd: scratch, env })
    return { ok: true, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { ok: false, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

/** One service's block of `config`'s YAML (services are indented by two spaces, sorted). */
function service (yaml: string, name: string): string {
  const services = yaml.slice(yaml.indexOf('\nservices:\n'))
  return new RegExp(`\\n  ${name}:\\n((?: {4}.*\\n)+)`).exec(services)?.[1] ?? ''
}

describe.skipIf(!compose.available)('relay/deploy/compose.yaml', () => {
  it('is valid without profiles: the relay (no profile, so it always starts) built from this checkout, metrics on the private network only', async () => {
    const result = await config(COMPOSE)
    expect(result.ok, result.output).toBe(true)
    const relay = service(result.output, 'relay')
    expect(relay).toContain(`build:\n      context: ${ROOT}\n      dockerfile: relay/deploy/Dockerfile\n`)
    expect(relay).not.toContain('profiles:')
    expect(relay).toContain('GOLEM_CLAY_METRICS_LISTEN: 0.0.0.0:9464')
    expect(relay).toContain('- relay-data:/data:rw')
    expect(relay).toContain('read_only: true')
    const ports = /\n {4}ports:\n((?: {4}[- ].*\n)+)/.exec(`\n${relay}`)?.[1] ?? ''
    expect(ports).toContain('0.0.0.0:8080:8080/tcp')
    expect(ports).toContain('0.0.0.0:9090:9090/tcp')
    expect(ports).toContain('published: 9091')
    expect(ports).not.toContain('9464')
    // only Caddy's fixed address is trusted to name clients
    expect(relay).toContain('GOLEM_CLAY_TRUSTED_PROXY: 172.30.53.10/32')
    expect(service(result.output, 'caddy')).toContain('ipv4_address: 172.30.53.10')
  })

  it('is valid with the caddy and monitoring profiles, which Caddy, Prometheus and Grafana belong to', async () => {
    const result = await config(COMPOSE, ['caddy', 'monitoring'], { GOLEM_CLAY_DOMAIN: 'relay.example.org', GOLEM_CLAY_PUBLISH_ADDR: '127.0.0.1' })
    expect(result.ok, result.output).toBe(true)
    const caddy = service(result.output, 'caddy')
    expect(caddy).toContain('profiles:\n    - caddy\n')
    expect(caddy).toContain('GOLEM_CLAY_DOMAIN: relay.example.org')
    // the Caddyfile reaches the relay container, not the host's loopback
    expect(caddy).toContain('GOLEM_CLAY_WS_UPSTREAM: relay:9090')
    expect(caddy).toContain('GOLEM_CLAY_HTTP_UPSTREAM: relay:8080')
    expect(caddy).toContain(`- ${ROOT}/relay/deploy/Caddyfile:/etc/caddy/Caddyfile:ro`)
    for (const name of ['prometheus', 'grafana']) expect(service(result.output, name)).toContain('profiles:\n    - monitoring\n')
    expect(service(result.output, 'prometheus')).toContain(`- ${ROOT}/relay/deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro`)
    // Grafana on loopback only; Prometheus not published at all
    expect(service(result.output, 'grafana')).toContain('- 127.0.0.1:3000:3000/tcp')
    expect(service(result.output, 'prometheus')).not.toContain('ports:')
    // behind Caddy, the plain page and WebSocket ports stay on the host's loopback
    expect(service(result.output, 'relay')).toContain('127.0.0.1:8080:8080/tcp')
  })

  it('the check can fail: a misspelt key or a missing build folder does not pass', async () => {
    const text = await readFile(COMPOSE, 'utf8')
    const misspelt = join(scratch, 'misspelt.yaml')
    await writeFile(misspelt, text.replace('    environment:\n      GOLEM_CLAY_ANNOUNCE', '    enviroment:\n      GOLEM_CLAY_ANNOUNCE'))
    const result = await config(misspelt)
    expect(result.ok).toBe(false)
    expect(result.output).toContain('enviroment')
    const noContext = join(scratch, 'no-context.yaml')
    await writeFile(noContext, text.replace('context: ../..', 'context: ../../no-such-checkout'))
    const missing = await config(noContext)
    expect(missing.ok).toBe(false)
    expect(missing.output).toContain('no-such-checkout')
  })
})
