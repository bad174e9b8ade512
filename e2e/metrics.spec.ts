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

/** The text of /metrics. */
async function scrapeText (): Promise<string> {
  const res = await fetch(env.relay.metricsUrl)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return await res.text()
}

/** Scrapes /metrics and parses it with a Prometheus text-format parser. */
async function scrape (): Promise<MetricFamily[]> {
  return parsePrometheusTextFormat(await scrapeText())
}

/** A histogram's count and sum; zeros when it has no sample yet. */
function histogram (families: MetricFamily[], name: string): { count: number, sum: number, buckets: Record<string, number> } {
  const found = families.find(f => f.name === name && f.type === 'HISTOGRAM')?.metrics[0]
  expect(found, name).toBeDefined()
  return { count: Number(found?.count ?? 0), sum: Number(found?.sum ?? 0), buckets: Object.fromEntries(Object.entries(found?.buckets ?? {}).map(([le, n]) => [le, Number(n)])) }
}

test('GET /metrics on its own loopback port shows the relay, its sessions and libp2p in Prometheus format; values follow tabs in and out', async () => {
  const before = await scrape()
  expect(sample(before, 'golem_clay_sessions')).toBe(0)
  expect(sample(before, 'golem_clay_session_difficulty_bits')).toBeGreaterThan(0)
  const solvedBefore = histogram(before, 'golem_clay_handshake_solve_seconds')

  const context = await env.browser.newContext()
  const tab = await openTab(context, env.relay.httpUrl)
  await peerIdOf(tab)
  await expect.poll(async () => sample(await scrape(), 'golem_clay_reservations')).toBe(1)
  const after = await scrape()
  expect(sample(after, 'golem_clay_sessions')).toBe(1)
  expect(sample(after, 'golem_clay_connections', { transport: 'websocket', direction: 'inbound' })).toBeGreaterThanOrEqual(1)
  expect(sample(after, 'golem_clay_directory_subscribers')).toBe(1)
  expect(sample(after, 'golem_clay_session_refusals_total', { kind: 'invalid-proof' })).toBe(0)
  // the tab paid the relay's challenge: one more handshake timed, from challenge to proof
  const solved = histogram(after, 'golem_clay_handshake_solve_seconds')
  expect(solved.count - solvedBefore.count).toBeGreaterThanOrEqual(1)
  expect(solved.sum - solvedBefore.sum).toBeGreaterThan(0)
  expect(solved.sum - solvedBefore.sum).toBeLessThan(60 * (solved.count - solvedBefore.count))
  expect(solved.buckets['+Inf'] ?? solved.count).toBe(solved.count)
  expect(sample(after, 'golem_clay_handshakes_total', { direction: 'inbound', outcome: 'verified' })).toBeGreaterThanOrEqual(solved.count)
  expect(sample(after, 'golem_clay_handshakes_total', { direction: 'inbound', outcome: 'refused' })).toBe(0)
  // storage and the market, read from the relay's parts
  expect(sample(after, 'golem_clay_storage_used_bytes')).toBe(0)
  expect(sample(after, 'golem_clay_storage_quota_used_ratio')).toBe(0)
  expect(sample(after, 'golem_clay_storage_quota_bytes')).toBeGreaterThan(0)
  expect(sample(after, 'golem_clay_storage_uploads_in_progress')).toBe(0)
  expect(sample(after, 'golem_clay_storage_uploads_total')).toBe(0)
  expect(sample(after, 'golem_clay_storage_refusals_total', { kind: 'quota' })).toBe(0)
  expect(sample(after, 'golem_clay_market_task_headers_relayed_total')).toBe(0)
  // the process, once each: libp2p's collection fills the shared registry, ours adds none
  const text = await scrapeText()
  for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'golem_clay_handshake_solve_seconds']) {
    expect(text.split('\n').filter(line => line.startsWith(`# TYPE ${name} `)), name).toHaveLength(1)
  }
  const p50 = sample(after, 'nodejs_eventloop_lag_p50_seconds') ?? -1
  const p99 = sample(after, 'nodejs_eventloop_lag_p99_seconds') ?? -1
  expect(p50).toBeGreaterThanOrEqual(0)
  expect(p99).toBeGreaterThanOrEqual(p50)
  expect(p99).toBeLessThan(5)
  expect(sample(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024)
  expect(sample(after, 'process_cpu_seconds_total')).toBeGreaterThan(0)
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
