import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { runRogue, tcpAddrOf } from './fixtures/rogue.ts'
import { openTab, peerIdOf } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

/** Waits for the relay's structured log to hold an event matching `fields`; returns it parsed. */
async function logged (fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  const output = env.relay.output
  if (output == null) throw new Error('the relay is not running')
  const line = await output.waitFor(text => {
    if (!text.startsWith('{')) return false
    const entry = JSON.parse(text) as Record<string, unknown>
    return Object.entries(fields).every(([k, v]) => entry[k] === v)
  }, 20_000)
  return JSON.parse(line) as Record<string, unknown>
}

test('the relay logs one JSON event a line: its start, sessions opened and closed with why, refusals and bans', async () => {
  const start = await logged({ event: 'relay-start' })
  expect(start).toMatchObject({ level: 30, name: 'golem-clay-relay', peer: (await env.relay.status()).peerId, metrics: env.relay.metricsUrl })
  expect(typeof start.time).toBe('number')

  const context = await env.browser.newContext()
  const tab = await openTab(context, env.relay.httpUrl)
  const peer = await peerIdOf(tab)
  expect(await logged({ event: 'session-open', peer })).toMatchObject({ roles: ['tab'], kind: 'websocket' })
  await context.close()
  // the tab says goodbye as it goes
  expect(await logged({ event: 'session-close', peer })).toMatchObject({ reason: 'ShuttingDown', by: 'peer' })

  const lines = await runRogue('wrong-solution', tcpAddrOf((await env.relay.status()).multiaddrs))
  const rogue = lines.find(l => l.done === true)?.peerId as string
  const refused = await logged({ event: 'handshake-refused', peer: rogue })
  expect(refused).toMatchObject({ level: 40, reason: 'InvalidProof', by: 'relay' })
  expect(await logged({ event: 'ban', peer: rogue })).toMatchObject({ level: 40 })
})
