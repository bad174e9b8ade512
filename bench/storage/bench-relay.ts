// A relay gateway for `npm run bench:storage`, run as its own process:
//   node --import tsx bench/storage/bench-relay.ts <relay flags...>
// It is the real gateway (storage included) plus the raw baseline protocol.
// Prints `{"ready":…}` once up; reads commands on stdin:
//   raw-pull <multiaddr> <bytes>   time a raw download from that relay over
//                                  our existing connection to it (relay↔relay baseline)
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { parseRelayConfig } from '../../relay/config/relay-config.ts'
import { startRelayGateway } from '../../relay/gateway/relay-gateway.ts'
import { handleRawStream, rawDownload, RAW_CHUNK, RAW_PROTOCOL } from './raw-protocol.ts'

const say = (line: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(line)}\n`) }
const { config } = parseRelayConfig(process.argv.slice(2))
const gateway = await startRelayGateway(config)
// one raw piece, sent over and over
const source = randomBytes(RAW_CHUNK)
await gateway.node.handle(RAW_PROTOCOL, (stream) => { handleRawStream(stream, source) }, { maxInboundStreams: 4 })
say({ ready: { peerId: gateway.node.peerId.toString(), http: gateway.http.url, multiaddrs: gateway.node.getMultiaddrs().map(String) } })

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, addr, bytes] = line.trim().split(/\s+/)
  if (cmd === 'quit') {
    void gateway.stop().then(() => process.exit(0))
    return
  }
  if (cmd !== 'raw-pull' || addr == null || bytes == null) return
  void (async () => {
    const ma = multiaddr(addr)
    // the connection replication already uses: dial() returns it
    const conn = await gateway.node.dial(ma)
    const ms = await rawDownload(conn, Number(bytes), AbortSignal.timeout(120_000))
    say({ rawPull: { ms, bytes: Number(bytes), transport: conn.remoteAddr.toString() } })
  })().catch((err: Error) => { say({ error: err.message }) })
})
process.on('SIGTERM', () => { void gateway.stop().then(() => process.exit(0)) })
