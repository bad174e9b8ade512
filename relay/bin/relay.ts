#!/usr/bin/env -S node --import tsx
import { parseRelayConfig, RELAY_HELP } from '../config/relay-config.ts'
import { limitsOf, startRelayGateway } from '../gateway/relay-gateway.ts'
import { createRelayLog, logRelayEvents } from '../log/index.ts'
import { CLIENT_VERSION } from '../../shared/version.ts'
import { runMain } from './run-main.ts'

await runMain('golem-clay-relay', async ({ onShutdown, onReload, setShutdownTimeout, print }) => {
  const { config, help } = parseRelayConfig(process.argv.slice(2))
  if (help) {
    process.stdout.write(RELAY_HELP)
    return 'exit'
  }
  if (config.storage.replicationAllowAnyRelay === true) {
    process.stderr.write('golem-clay-relay: warning: --replication-allow-any-relay lets any peer that answers as a relay at its own address copy every stored file, private ones included; prefer --replication-allow <peer ID>\n')
  }
  const log = createRelayLog({ level: config.log.level })
  const gateway = await startRelayGateway(config, { log })
  const unlog = logRelayEvents(gateway.node, log)
  gateway.http.server.on('error', (err) => { log.error({ event: 'error', part: 'http', error: err.message, name: err.name }, 'HTTP server error') })
  gateway.tls?.addEventListener('tls:reload', (evt) => { log.info({ event: 'tls-reload', ...evt.detail }, 'certificate reloaded') })
  gateway.tls?.addEventListener('tls:error', (evt) => { log.error({ event: 'tls-reload-refused', trigger: evt.detail.trigger, error: evt.detail.error.message }, 'new certificate files refused; the previous ones stay in use') })
  onReload(async () => {
    // the same flags and environment, the config file read again
    let next
    try {
      next = parseRelayConfig(process.argv.slice(2)).config
    } catch (err: any) {
      log.error({ event: 'reload-refused', error: err.message }, 'configuration not reloaded')
      return
    }
    const { restartNeeded } = await gateway.reload(next)
    log.info({ event: 'reload', limits: limitsOf(next), ...(restartNeeded.length > 0 ? { restartNeeded } : {}) }, 'limits reloaded')
  })
  setShutdownTimeout(config.drainTimeout * 1000 + 10_000)
  onShutdown(async () => {
    log.info({ event: 'relay-drain', timeoutMs: config.drainTimeout * 1000 }, 'telling peers the relay is shutting down')
    const drained = await gateway.drain(config.drainTimeout * 1000)
    log.info({ event: 'relay-stop', ...drained }, 'relay stopping')
    unlog()
    await gateway.stop()
    log.flush()
  })
  const addrs = gateway.node.getMultiaddrs().map(ma => ma.toString())
  if (config.logLevel !== 'quiet') {
    print(`Golem Clay relay ${CLIENT_VERSION}`)
    print(`  peer ID    ${gateway.node.peerId.toString()}${gateway.keyCreated ? ' (new identity)' : ''}`)
    print(`  payment    ${gateway.node.services.payments.address}${gateway.paymentKeyCreated ? ' (new account)' : ''}`)
    print(`  data       ${config.dataDir}`)
    for (const addr of addrs) print(`  listening  ${addr}`)
    if (gateway.metrics != null) print(`  metrics    ${gateway.metrics.url}`)
    if (gateway.chain != null) print(`  chain      ${gateway.chain.mode} ${gateway.chain.info.chainId}, deposits at ${gateway.chain.info.deposit}${gateway.chain.faucet != null ? ', faucet' : ''} (${new URL('chain', gateway.http.url).toString()})`)
  }
  log.info({ event: 'relay-start', peer: gateway.node.peerId.toString(), paymentAddress: gateway.node.services.payments.address, version: CLIENT_VERSION, addresses: addrs, http: gateway.http.url, ...(gateway.metrics != null ? { metrics: gateway.metrics.url } : {}), newIdentity: gateway.keyCreated, newPaymentAccount: gateway.paymentKeyCreated }, 'relay started')
  // tests and scripts wait for this exact line
  print(`Golem Clay relay ready at ${gateway.http.url}`)
  return 'serve'
})
