import { expect, test } from '@playwright/test'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { MetricFamily } from 'parse-prometheus-text-format'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, peerIdOf } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

/** One sample's value, labels matched exactly; undefined when absent. */
function sample (families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find(f => f.name === name)
  const found = family?.metrics.find(m => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))
  return found?.value == null ? undefined : Number(found.value)
}

/** Scrapes /metrics and parses it with a Prometheus text-format parser. */
async function scrape (): Promise<MetricFamily[]> {
  const res = await fetch(env.relay.metricsUrl)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return parsePrometheusTextFormat(await res.text())
}

test('GET /metrics on its own loopback port shows the relay, its sessions and libp2p in Prometheus format; values follow tabs in and out', async () => {
  const before = await scrape()
  expect(sample(before, 'golem_clay_sessions')).toBe(0)
  expect(sample(before, 'golem_clay_session_difficulty_bits')).toBeGreaterThan(0)

  const context = await env.browser.newContext()
  const tab = await openTab(context, env.relay.httpUrl)
  await peerIdOf(tab)
  await expect.poll(async () => sample(await scrape(), 'golem_clay_reservations')).toBe(1)
  const after = await scrape()
  expect(sample(after, 'golem_clay_sessions')).toBe(1)
  expect(sample(after, 'golem_clay_connections', { transport: 'websocket', direction: 'inbound' })).toBeGreaterThanOrEqual(1)
  expect(sample(after, 'golem_clay_directory_subscribers')).toBe(1)
  expect(sample(after, 'golem_clay_session_refusals_total', { kind: 'invalid-proof' })).toBe(0)
  // libp2p's own metrics and the process's, in the same registry
  const names = new Set(after.map(f => f.name))
  for (const name of ['libp2p_connection_manager_connections', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) expect(names).toContain(name)
  // ours are documented and named by the conventions
  for (const family of after.filter(f => f.name.startsWith('golem_clay_'))) {
    expect(family.help).not.toBe('')
    if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/)
  }

  // the tab leaves: its session, reservation and subscription go, and the metrics say so
  await context.close()
  await expect.poll(async () => sample(await scrape(), 'golem_clay_sessions'), { timeout: 20_000 }).toBe(0)
  const gone = await scrape()
  expect(sample(gone, 'golem_clay_reservations')).toBe(0)
  expect(sample(gone, 'golem_clay_directory_subscribers')).toBe(0)

  // not on the public port, and nothing else on the metrics port
  expect(await (await fetch(new URL('/metrics', env.relay.httpUrl))).text()).not.toContain('golem_clay_sessions')
  expect((await fetch(env.relay.metricsUrl.replace('/metrics', '/status'))).status).toBe(404)
})
