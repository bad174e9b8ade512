#!/usr/bin/env -S node --import tsx
import { parseRelayConfig, RELAY_HELP } from '../config/relay-config.ts'
import { startRelayGateway } from '../gateway/relay-gateway.ts'
import { CLIENT_VERSION } from '../../shared/version.ts'
import { runMain } from './run-main.ts'

await runMain('golem-clay-relay', async ({ onShutdown, print }) => {
  const { config, help } = parseRelayConfig(process.argv.slice(2))
  if (help) {
    process.stdout.write(RELAY_HELP)
    return 'exit'
  }
  if (config.storage.replicationAllowAnyRelay === true) {
    process.stderr.write('golem-clay-relay: warning: --replication-allow-any-relay lets any peer that answers as a relay at its own address copy every stored file, private ones included; prefer --replication-allow <peer ID>\n')
  }
  const gateway = await startRelayGateway(config)
  onShutdown(async () => { await gateway.stop() })
  const addrs = gateway.node.getMultiaddrs().map(ma => ma.toString())
  if (config.logLevel !== 'quiet') {
    print(`Golem Clay relay ${CLIENT_VERSION}`)
    print(`  peer ID    ${gateway.node.peerId.toString()}${gateway.keyCreated ? ' (new identity)' : ''}`)
    print(`  data       ${config.dataDir}`)
    for (const addr of addrs) print(`  listening  ${addr}`)
    if (gateway.metrics != null) print(`  metrics    ${gateway.metrics.url}`)
  }
  // tests and scripts wait for this exact line
  print(`Golem Clay relay ready at ${gateway.http.url}`)
  return 'serve'
})
