import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, peerIdOf } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

/** One sample's value from Prometheus' text format; undefined when absent. */
function sample (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${name}${labels} `))
  return line == null ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

async function scrape (): Promise<string> {
  const res = await fetch(env.relay.metricsUrl)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return await res.text()
}

test('GET /metrics on its own loopback port shows the relay, its sessions and libp2p in Prometheus format', async () => {
  const before = await scrape()
  expect(sample(before, 'golem_clay_sessions')).toBe(0)
  expect(sample(before, 'golem_clay_session_difficulty_bits')).toBeGreaterThan(0)

  const tab = await openTab(await env.browser.newContext(), env.relay.httpUrl)
  await peerIdOf(tab)
  // the reservation is in place once the tab says so; the scrape reads the relay's state then
  await expect.poll(async () => sample(await scrape(), 'golem_clay_reservations')).toBe(1)
  const after = await scrape()
  expect(sample(after, 'golem_clay_sessions')).toBe(1)
  expect(sample(after, 'golem_clay_connections', '{transport="websocket",direction="inbound"}')).toBeGreaterThanOrEqual(1)
  expect(sample(after, 'golem_clay_directory_subscribers')).toBe(1)
  expect(sample(after, 'golem_clay_session_refusals_total', '{kind="invalid-proof"}')).toBe(0)
  // libp2p's own metrics and the process's, in the same registry
  expect(after).toMatch(/^libp2p_connection_manager_connections\{/m)
  expect(after).toMatch(/^process_cpu_seconds_total /m)
  expect(after).toMatch(/^nodejs_eventloop_lag_seconds /m)
  // every metric of ours is documented and named by the conventions
  for (const name of new Set([...after.matchAll(/^# TYPE (golem_clay_\w+) (\w+)/gm)].map(m => `${m[1] ?? ''} ${m[2] ?? ''}`))) {
    const [metric = '', type] = name.split(' ')
    expect(after).toContain(`# HELP ${metric} `)
    if (type === 'counter') expect(metric).toMatch(/_total$/)
  }

  // not on the public port, and nothing else on the metrics port
  expect(await (await fetch(new URL('/metrics', env.relay.httpUrl))).text()).not.toContain('golem_clay_sessions')
  expect((await fetch(env.relay.metricsUrl.replace('/metrics', '/status'))).status).toBe(404)
})
