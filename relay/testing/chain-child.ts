// The relay's side of the embedded chain in a process of its own, for the
// kill -9 tests: starts the chain in the folder given, then sends
// transactions until killed (SIGTERM stops it cleanly). Lines on stdout:
//   ready <json>                      the chain is up (rpcUrl, contracts, what the start did)
//   sent <kind> <hash> <to> <amount>  a transaction the chain took: submit() returned
//   dump / dumped <block>             a snapshot began / is on disk
// Run: node --import tsx relay/testing/chain-child.ts <dir> (env CHAIN_CHILD_TAB_KEY: a tab's key)
import { createPublicClient, encodeFunctionData, http, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clayTestTokenAbi } from '../../contracts/index.ts'
import { createEmbeddedChain } from '../chain/index.ts'
import type { Hex } from 'viem'

const dir = process.argv[2]
if (dir == null) throw new Error('usage: chain-child.ts <dir>')
const out = (...words: Array<string | number | bigint>): void => { process.stdout.write(`${words.join(' ')}\n`) }
const events: Record<string, unknown> = {}
const note = (fields: object): void => { Object.assign(events, fields) }
const chain = createEmbeddedChain({ log: { info: note, warn: note, error: note } }, {
  dir,
  snapshotIntervalMs: Number(process.env.CHAIN_CHILD_SNAPSHOT_MS ?? 20),
  snapshotAfterTxMs: 0,
  faucet: { addressIntervalMs: 0, maxPerHour: 1e9 }
})
chain.addEventListener('snapshot:start', () => { out('dump') })
chain.addEventListener('snapshot', (evt) => { out('dumped', evt.detail.block) })
await chain.start()

let running = true
let loop: Promise<void> = Promise.resolve()
process.once('SIGTERM', () => {
  running = false
  void (async () => {
    await loop
    await chain.stop()
    process.exit(0)
  })()
})

const { rpcUrl, token } = { rpcUrl: chain.rpcUrl, token: chain.info.token }
const client = createPublicClient({ transport: http(rpcUrl) })
const sender = chain.txSender
if (sender == null) throw new Error('the chain is not started')
const tab = privateKeyToAccount((process.env.CHAIN_CHILD_TAB_KEY ?? generatePrivateKey()) as Hex)
if (await client.getBalance({ address: tab.address }) === 0n) await chain.faucet?.grant(tab.address)
out('ready', JSON.stringify({ rpcUrl, token, deposit: chain.info.deposit, salt: chain.info.salt, events }))

loop = (async () => {
  let nonce = await client.getTransactionCount({ address: tab.address, blockTag: 'pending' })
  for (let i = 1; running; i++) {
    const to = privateKeyToAccount(generatePrivateKey()).address
    if (i % 2 === 0) {
      // the relay's own: a mint from the owner, through the journal
      const data = encodeFunctionData({ abi: clayTestTokenAbi, functionName: 'mint', args: [to, BigInt(i)] })
      const receipt = await sender.submit({ kind: 'test', to: token, data })
      out('sent', 'mint', receipt.transactionHash, to, i)
    } else {
      // a tab's: signed elsewhere, sent through the relay's proxy path
      const raw = await tab.signTransaction({ chainId: chain.info.chainId, type: 'eip1559', nonce, to, value: BigInt(i), gas: 21_000n, maxFeePerGas: parseEther('0.000001'), maxPriorityFeePerGas: 1n })
      const hash = await chain.sendRawTransaction(raw)
      nonce++
      out('sent', 'eth', hash, to, i)
    }
  }
})()
