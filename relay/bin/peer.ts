#!/usr/bin/env -S node --import tsx
import { join } from 'node:path'
import { loadOrCreateKey } from '../identity/key-file.ts'
import { loadPaymentKey } from '../identity/payment-key-file.ts'
import { fileKeeperStore } from '../peer-keeper/file-keeper-store.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { checkLedgerFiles, fileLedgerStores } from '../node-peer/file-ledger-stores.ts'
import { resolveRelays, untilReachable } from '../node-peer/join-network.ts'
import { parsePeerConfig, PEER_HELP } from '../node-peer/peer-config.ts'
import { startPeerConsole } from '../node-peer/peer-console.ts'
import { JoinTimeoutError } from '../node-peer/peer-errors.ts'
import { runMain } from './run-main.ts'

await runMain('golem-clay-peer', async ({ onShutdown, exit, print }) => {
  const { config, help } = parsePeerConfig(process.argv.slice(2))
  if (help) {
    process.stdout.write(PEER_HELP)
    return 'exit'
  }
  const say = (event: string, data: Record<string, unknown>, text: string): void => {
    print(config.json ? JSON.stringify({ event, ...data }) : text)
  }
  // the end of the road: an event for scripts, a line on stderr for people, exit code 1
  const giveUp = (err: JoinTimeoutError): void => {
    if (config.json) say('error', { message: err.message, code: err.code }, err.message)
    process.stderr.write(`golem-clay-peer: ${err.message}\n`)
    exit(1)
  }
  const key = config.dataDir != null ? (await loadOrCreateKey(config.dataDir)).key : undefined
  const payment = await loadPaymentKey({ file: config.paymentKeyFile, dataDir: config.dataDir })

  // joining (finding the relay, reaching it, a reservation) is bounded by --timeout
  const joining = { signal: config.timeout != null ? AbortSignal.timeout(config.timeout) : undefined, timeout: config.timeout }
  let relays
  try {
    relays = await resolveRelays(config.relays, {
      ...joining,
      onWaiting: (w) => { say('waiting', { relay: w.relay, message: w.message, retryInMs: w.retryInMs }, `${w.message}; retrying in ${(w.retryInMs / 1000).toFixed(1)} s`) }
    })
  } catch (err) {
    if (!(err instanceof JoinTimeoutError)) throw err
    giveUp(err)
    return 'serve' // exit() is under way
  }

  const keeperStore = config.dataDir != null ? fileKeeperStore(join(config.dataDir, 'peers.json')) : undefined
  // cheques signed and received: in the data folder, or lost with the process
  const ledgers = config.dataDir != null ? join(config.dataDir, 'ledgers') : undefined
  if (config.dataDir != null) await checkLedgerFiles(config.dataDir)
  const node = await createNodePeer({
    privateKey: key,
    paymentKey: payment?.key,
    relays,
    keeperStore,
    provider: config.provide ? { cores: config.cores } : undefined,
    market: config.dataDir != null ? { ledgers: fileLedgerStores(config.dataDir, { durability: config.strictLedgers ? 'strict' : 'relaxed' }) } : undefined
  })
  onShutdown(async () => { await node.stop() })
  const console = startPeerConsole({
    node,
    json: config.json,
    input: process.stdin,
    output: print,
    onQuit: () => { exit(0) },
    quitOnEnd: process.stdin.isTTY === true
  })
  // --exec: the commands in order, each bounded by --timeout; the first failure ends the run
  const runScript = async (): Promise<void> => {
    for (const line of config.exec) {
      try {
        await console.run(line, { timeout: config.timeout })
      } catch {
        exit(1)
        return
      }
    }
    exit(0)
  }
  await node.start()
  const paymentAddress = node.services.payments.address
  say('started', { peerId: node.peerId.toString(), paymentAddress, relays: relays.map(String), ledgers: ledgers ?? null },
    `Golem Clay peer ${node.peerId.toString()} joining via ${relays.join(', ')}\n  payment account ${paymentAddress}${payment == null ? ' (for this run only; keep one with --data or --payment-key-file)' : payment.created ? ' (new)' : ''}` +
    `\n  cheques ${ledgers != null ? `kept in ${ledgers}` : 'in memory for this run only (keep them with --data)'}`)
  untilReachable(node, joining).then(() => {
    say('ready', { peerId: node.peerId.toString() }, 'reachable through the relay; type "help" for commands')
    if (config.exec.length > 0) void runScript()
  }, giveUp)
  return 'serve'
})
