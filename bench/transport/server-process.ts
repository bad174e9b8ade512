// The bench's server side in its own process, as a relay gateway runs in
// production: the relay, with the bench sink, and the raw baseline servers.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createRelayNode } from '../../relay/gateway/create-relay-node.ts'
import { BENCH_PROTOCOL, handleBenchStream } from './bench-protocol.ts'
import { startRawServers } from './raw-servers.ts'
import { READY_PREFIX } from './server-handle.ts'
import type { ServerReady } from './server-handle.ts'

const HOST = '127.0.0.1'

async function main (): Promise<void> {
  const relay = await createRelayNode({
    privateKey: await generateKeyPair('Ed25519'),
    host: HOST,
    tcpPort: 0,
    wsPort: 0,
    // bulk transfers through the circuit must not hit the relay's limits
    relayDataLimit: 1024 * 1024 * 1024,
    relayDurationLimit: 3600
  })
  await relay.start()
  // after start, so the session layer (which gates what is registered by then) leaves it alone
  await relay.handle(BENCH_PROTOCOL, (stream) => { handleBenchStream(stream) }, { runOnLimitedConnection: true })
  const raw = await startRawServers(HOST)

  let stopping = false
  const stop = (why: string): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`bench server: stopping (${why})\n`)
    setTimeout(() => { process.exit(1) }, 5_000).unref()
    Promise.all([raw.close(), relay.stop()])
      .then(() => { process.exit(0) }, (err) => { process.stderr.write(`bench server: stop failed: ${err.message}\n`); process.exit(1) })
  }
  process.on('SIGTERM', () => { stop('SIGTERM') })
  process.on('SIGINT', () => { stop('SIGINT') })
  // the bench process holds our stdin: when it goes, so do we
  process.stdin.on('end', () => { stop('parent gone') })
  process.stdin.on('error', () => { stop('parent gone') })
  process.stdin.resume()

  const addrs = relay.getMultiaddrs().map(ma => ma.toString())
  const relayTcp = addrs.find(a => a.includes('/tcp/') && !a.includes('/ws'))
  const relayWs = addrs.find(a => a.includes('/ws/p2p/'))
  if (relayTcp == null || relayWs == null) throw new Error(`relay has no TCP or WS address: ${addrs.join(', ')}`)
  const ready: ServerReady = {
    relayPeerId: relay.peerId.toString(),
    relayTcp,
    relayWs,
    rawTcpPort: raw.tcpPort,
    rawWsUrl: raw.wsUrl,
    forwardTcpPort: raw.forwardTcpPort,
    forwardWsUrl: raw.forwardWsUrl
  }
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`)
}

main().catch((err) => {
  process.stderr.write(`bench server: ${err.stack ?? err.message}\n`)
  process.exit(1)
})
