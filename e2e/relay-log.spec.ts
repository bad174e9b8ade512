import { rm } from 'node:fs/promises'
import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { runRogue, tcpAddrOf } from './fixtures/rogue.ts'
import { randomFile, uploadViaUi, waitStorageReady } from './fixtures/storage.ts'
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

test('the relay logs one JSON event a line: its start, sessions opened and closed with why, uploads, refusals and bans', async () => {
  const start = await logged({ event: 'relay-start' })
  expect(start).toMatchObject({ level: 30, name: 'golem-clay-relay', peer: (await env.relay.status()).peerId, metrics: env.relay.metricsUrl })
  expect(typeof start.time).toBe('number')

  const context = await env.browser.newContext()
  const tab = await openTab(context, env.relay.httpUrl)
  const peer = await peerIdOf(tab)
  const opened = await logged({ event: 'session-open', peer })
  expect(opened).toMatchObject({ roles: ['tab'], kind: 'websocket' })
  expect(opened.solveMs).toBeGreaterThanOrEqual(0)

  await context.close()
  // the tab says goodbye as it goes
  expect(await logged({ event: 'session-close', peer })).toMatchObject({ reason: 'ShuttingDown', by: 'peer' })

  // a stored object, from another tab: who, which drive (a prefix of its key), where, how big; never its address or a token
  const uploader = await env.browser.newContext()
  const file = await randomFile('relay-log.bin', 50_000)
  try {
    const page = await openTab(uploader, env.relay.httpUrl)
    const owner = await peerIdOf(page)
    await waitStorageReady(page)
    const up = await uploadViaUi(page, file.path)
    expect(up.state).toBe('done')
    const stored = await logged({ event: 'storage-upload', peer: owner })
    expect(stored).toMatchObject({ level: 30, owner, size: 50_000, deduplicated: false })
    expect(String(stored.drive)).toHaveLength(16)
    expect(up.address).toContain(String(stored.drive))
    expect(env.relay.output?.lines.join('\n')).not.toContain(up.address!.split('?')[0])
  } finally {
    await uploader.close()
    await rm(file.path, { force: true })
  }

  const lines = await runRogue('wrong-solution', tcpAddrOf((await env.relay.status()).multiaddrs))
  const rogue = lines.find(l => l.done === true)?.peerId as string
  const refused = await logged({ event: 'handshake-refused', peer: rogue })
  expect(refused).toMatchObject({ level: 40, reason: 'InvalidProof', by: 'relay' })
  expect(await logged({ event: 'ban', peer: rogue })).toMatchObject({ level: 40 })
})
