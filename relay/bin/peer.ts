#!/usr/bin/env -S node --import tsx
import { Backoff, delay } from '../../shared/util/index.ts'
import { RelayStatusError } from '../../shared/p2p-service/index.ts'
import { join } from 'node:path'
import { loadOrCreateKey } from '../identity/key-file.ts'
import { fileKeeperStore } from '../peer-keeper/file-keeper-store.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { parsePeerConfig, PEER_HELP } from '../node-peer/peer-config.ts'
import { startPeerConsole } from '../node-peer/peer-console.ts'
import { resolveRelay } from '../node-peer/resolve-relay.ts'
import { runMain } from './run-main.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

await runMain('golem-clay-peer', async ({ onShutdown, print }) => {
  const { config, help } = parsePeerConfig(process.argv.slice(2))
  if (help) {
    process.stdout.write(PEER_HELP)
    return 'exit'
  }
  const say = (event: string, data: Record<string, unknown>, text: string): void => {
    print(config.json ? JSON.stringify({ event, ...data }) : text)
  }
  const key = config.dataDir != null ? (await loadOrCreateKey(config.dataDir)).key : undefined

  // a relay given by URL may still be starting: keep asking, with backoff
  const relays: Multiaddr[] = []
  for (const value of config.relays) {
    const backoff = new Backoff({ initialDelay: 500, maxDelay: 15_000 })
    for (;;) {
      try {
        relays.push(await resolveRelay(value, AbortSignal.timeout(10_000)))
        break
      } catch (err: any) {
        if (!(err instanceof RelayStatusError)) throw err
        const wait = backoff.next()
        say('waiting', { relay: value, message: err.message, retryInMs: wait }, `${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`)
        await delay(wait)
      }
    }
  }

  const keeperStore = config.dataDir != null ? fileKeeperStore(join(config.dataDir, 'peers.json')) : undefined
  const node = await createNodePeer({ privateKey: key, relays, keeperStore, provider: config.provide ? { cores: config.cores } : undefined })
  onShutdown(async () => { await node.stop() })
  let announced = false
  node.services.relays.addEventListener('relay:status', (evt) => {
    if (!announced && evt.detail.some(r => r.state === 'reserved')) {
      announced = true
      say('ready', { peerId: node.peerId.toString() }, 'reachable through the relay; type "help" for commands')
      if (config.exec.length > 0) void runScript()
    }
  })
  const console = startPeerConsole({
    node,
    json: config.json,
    input: process.stdin,
    output: print,
    onQuit: () => { process.kill(process.pid, 'SIGINT') },
    quitOnEnd: process.stdin.isTTY === true
  })
  // --exec: the commands in order, then quit (non-zero exit when one fails)
  const runScript = async (): Promise<void> => {
    try {
      for (const line of config.exec) await console.run(line)
    } catch {
      process.exitCode = 1
    }
    process.kill(process.pid, 'SIGINT')
  }
  await node.start()
  say('started', { peerId: node.peerId.toString(), relays: relays.map(String) }, `Golem Clay peer ${node.peerId.toString()} joining via ${relays.join(', ')}`)
  return 'serve'
})
