import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { debianTool } from '../testing/debian-tool.ts'

const run = promisify(execFile)
const PROMETHEUS_YML = new URL('./prometheus.yml', import.meta.url).pathname
const DATASOURCE = new URL('./grafana-datasource.yaml', import.meta.url).pathname
const promtool = debianTool('promtool', 'prometheus')
const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

/** Prometheus's own check of a config file (Debian's promtool). */
async function check (file: string): Promise<{ ok: boolean, output: string }> {
  try {
    const { stdout, stderr } = await run(promtool.path, ['check', 'config', file])
    return { ok: true, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { ok: false, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

describe.skipIf(!promtool.available)('Prometheus scraping a relay', () => {
  it('relay/deploy/prometheus.yml passes promtool check config and scrapes the relay service\'s metrics port', async () => {
    const text = await readFile(PROMETHEUS_YML, 'utf8')
    // compose.yaml's service name and --metrics-listen port
    expect(text).toContain("- targets: ['relay:9464']")
    expect(text).toContain('metrics_path: /metrics')
    const result = await check(PROMETHEUS_YML)
    expect(result.output).toContain('SUCCESS')
    expect(result.ok).toBe(true)
  })

  it('the check can fail: a broken copy does not pass', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-prometheus-'))
    dirs.push(dir)
    const broken = join(dir, 'prometheus.yml')
    await writeFile(broken, (await readFile(PROMETHEUS_YML, 'utf8')).replace('scrape_interval: 15s', 'scrape_interval: 15 seconds'))
    const result = await check(broken)
    expect(result.ok).toBe(false)
    expect(result.output).toContain('FAILED')
  })
})

describe('Grafana datasource', () => {
  it('points at compose.yaml\'s Prometheus service, as the default datasource', async () => {
    const text = await readFile(DATASOURCE, 'utf8')
    expect(text).toMatch(/^apiVersion: 1$/m)
    expect(text).toMatch(/^ {4}type: prometheus$/m)
    expect(text).toMatch(/^ {4}url: http:\/\/prometheus:9090$/m)
    expect(text).toMatch(/^ {4}isDefault: true$/m)
    const compose = await readFile(new URL('./compose.yaml', import.meta.url), 'utf8')
    expect(compose).toMatch(/^ {2}prometheus:$/m)
    expect(compose).toContain('./grafana-datasource.yaml:/etc/grafana/provisioning/datasources/')
  })
})
