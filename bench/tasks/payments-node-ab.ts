// The Node requestor's own share of payments, without browsers: a relay
// with the embedded chain, a Node provider (the CLI's `peer --provide`, one
// core) in its own process, and this process as the requestor, submitting
// the same short subtasks unpaid and paid in alternate runs (the order
// alternating by round). Prints the requestor's main-thread CPU per subtask
// (process.threadCpuUsage) for both and their paired difference; writes
// nothing. BENCH_AB_CALIBRATE_US=600 makes run B unpaid plus a busy loop of
// that many µs per result instead of paid: what a known cost measures as.
//   node --import tsx bench/tasks/payments-node-ab.ts
import { mkdtemp, rm } from 'node:fs/promises'
import { PerformanceObserver } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerProcess } from '../../e2e/fixtures/peer-process.ts'
import { RelayProcess } from '../../e2e/fixtures/relay-process.ts'
import { tcpAddrOf } from '../../e2e/fixtures/rogue.ts'
import { createNodePeer } from '../../relay/node-peer/create-node-peer.ts'
import { fileLedgerStores } from '../../relay/node-peer/file-ledger-stores.ts'
import { until } from '../../relay/testing/wait.ts'
import { depositClients, depositTokens } from '../../shared/payments/index.ts'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { log, median, round } from '../common/index.ts'
import { ranges } from './rig.ts'
import { timedSubmit } from './timed-submit.ts'
import type { Market } from '../../shared/market/index.ts'

const SUBTASKS = Number(process.env.BENCH_AB_SUBTASKS ?? 200)
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 8)
/** Prime ranges this wide take a few ms each: the market's and payments' share of a subtask shows. */
const WIDTH = Number(process.env.BENCH_AB_WIDTH ?? 2e6)
const CALIBRATE_US = Number(process.env.BENCH_AB_CALIBRATE_US ?? 0)

/** Main-thread GC pauses, ms: what garbage the runs make shows here. */
let gcMs = 0
new PerformanceObserver(list => { for (const e of list.getEntries()) gcMs += e.duration }).observe({ entryTypes: ['gc'] })

const ledgers = await mkdtemp(join(tmpdir(), 'gc-bench-ab-'))
const relay = await RelayProcess.start({ extraArgs: ['--chain', 'embedded'] })
const status = await relay.status()
const provider = PeerProcess.start(tcpAddrOf(status.multiaddrs), ['--provide', '--cores', '1'])
const requestor = await createNodePeer({ relays: [tcpAddrOf(status.multiaddrs)], market: { ledgers: fileLedgerStores(ledgers) } })
try {
  await provider.waitForEvent(e => e.event === 'ready', 60_000)
  await requestor.start()
  await until(() => requestor.getMultiaddrs().some(a => a.toString().includes('/p2p-circuit')), 'the requestor\'s reservation', 60_000, 50)
  await until(async () => (await requestor.services.storage.relays()).includes(status.peerId), 'the relay\'s storage', 30_000, 50)
  const res = await fetch(new URL('/chain/faucet', relay.httpUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: requestor.services.payments.address }) })
  if (!res.ok) throw new Error(`the faucet said ${res.status}: ${await res.text()}`)
  await until(async () => (await requestor.services.chain.chainInfo()) != null, 'the relay\'s chain', 30_000, 100)
  const info = await requestor.services.chain.chainInfo()
  if (info == null) throw new Error('the relay runs no chain')
  await depositTokens(depositClients(requestor.services.chain.transport(), requestor.services.payments.account, info.chainId), info, 50n * 10n ** 18n)
  const module = (await loadDemoTask('primes')).module
  const market = requestor.services.market
  const b = CALIBRATE_US > 0 ? withBusyLoop(market, CALIBRATE_US) : market
  // first contact, the first deposit read and cheque book entry: not measured
  await timedSubmit(market, module, ranges(WIDTH, 16), status.peerId, false)
  await timedSubmit(b, module, ranges(WIDTH, 16), status.peerId, true)
  const diffs: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const cpu = [0, 0]
    const wall = [0, 0]
    const gc = [0, 0]
    const sys = [0, 0]
    for (const kind of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const gcBefore = gcMs
      const before = process.threadCpuUsage()
      const run = await timedSubmit(kind === 1 ? b : market, module, ranges(WIDTH, SUBTASKS, (r + 1) * SUBTASKS), status.peerId, kind === 1)
      const used = process.threadCpuUsage(before)
      cpu[kind] = (used.user + used.system) / 1000 / SUBTASKS
      sys[kind] = used.system / 1000 / SUBTASKS
      wall[kind] = run.wallMs
      // the observer's callback runs after the entries: let it
      await new Promise(resolve => setTimeout(resolve, 10))
      gc[kind] = (gcMs - gcBefore) / SUBTASKS
    }
    diffs.push((cpu[1] ?? 0) - (cpu[0] ?? 0))
    log(`round ${r}: requestor main thread, CPU ms per subtask: unpaid ${round(cpu[0] ?? 0, 3)}, ${CALIBRATE_US > 0 ? `unpaid + ${CALIBRATE_US} µs` : 'paid'} ${round(cpu[1] ?? 0, 3)}, difference ${round(diffs.at(-1) ?? 0, 3)}; of it in the kernel ${round(sys[0] ?? 0, 3)} / ${round(sys[1] ?? 0, 3)} and GC pauses ${round(gc[0] ?? 0, 3)} / ${round(gc[1] ?? 0, 3)}; wall ${round(wall[0] ?? 0)} / ${round(wall[1] ?? 0)} ms`)
  }
  log(`median difference over ${ROUNDS} rounds: ${round(median(diffs), 3)} ms of the requestor's main-thread CPU per subtask (${CALIBRATE_US > 0 ? `a busy loop of ${CALIBRATE_US} µs per result` : 'paid − unpaid'})`)
} finally {
  await Promise.resolve(requestor.stop()).catch(() => {})
  await provider.stop().catch(() => {})
  await relay.stop().catch(() => {})
  await rm(ledgers, { recursive: true, force: true })
  setTimeout(() => process.exit(), 1000).unref()
}

/** The market, except that a task submitted as paid runs unpaid with a busy loop of `us` on each result: a known cost to measure. */
function withBusyLoop (market: Market, us: number): Market {
  return new Proxy(market, {
    get (target, key, receiver) {
      if (key !== 'submit') return Reflect.get(target, key, receiver)
      const submit: Market['submit'] = async (opts, ...rest) => {
        const task = await target.submit({ ...opts, paid: false, price: undefined }, ...rest)
        task.addEventListener('result', () => {
          const t = performance.now()
          while (performance.now() - t < us / 1000);
        })
        return task
      }
      return submit
    }
  })
}
