import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { createPublicClient, encodeFunctionData, http, parseEther, parseUnits } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi, clayTestTokenAbi } from '../../contracts/index.ts'
import { chequeToWire, chequeTypes, depositDomain, MAX_CHAIN_FRAME, signCheque, validateChainAnswer } from '../../shared/payments/index.ts'
import { CHAIN_PROTOCOL, decodeJson, encodeJson } from '../../shared/wire/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { tcpAddr as tcp, until } from '../testing/wait.ts'
import { createEmbeddedChain } from './index.ts'
import type { EmbeddedChain } from './index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { ChainAnswer, ChequeWire, DepositDeployment, SignedCheque } from '../../shared/payments/index.ts'
import type { Address, Hex, PrivateKeyAccount, PublicClient } from 'viem'

const FAST = { difficulty: { base: 4, max: 6 } }
const TOKEN = parseUnits('1', 18)

let dir: string
let chain: EmbeddedChain
let relay: RelayNode
let peer: NodePeer
let client: PublicClient
let deployment: DepositDeployment
let nextId = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gc-chain-server-'))
  chain = createEmbeddedChain({}, { dir: join(dir, 'chain'), snapshotIntervalMs: 3600_000 })
  await chain.start()
  client = createPublicClient({ transport: http(chain.rpcUrl) })
  deployment = { chainId: chain.info.chainId, address: chain.info.deposit, salt: chain.info.salt }
  relay = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: FAST, chain, chainServer: { casher: { batchWindowMs: 300 } } })
  await relay.start()
  peer = await createNodePeer({ relays: [tcp(relay)], session: FAST, maxRelays: 1 })
  await peer.start()
  await until(() => peer.services.relays.status.some(s => s.state === 'reserved'), 'a reservation')
}, 60_000)

afterAll(async () => {
  await peer?.stop()
  await relay?.stop()
  await chain?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** When our last streams were opened: the session layer allows 20 a second (PROTOCOL_RATE_LIMITS) and strikes beyond. */
const opened: number[] = []

async function paced (): Promise<void> {
  for (;;) {
    const now = Date.now()
    while (opened.length > 0 && now - (opened[0] ?? 0) > 1100) opened.shift()
    if (opened.length < 15) {
      opened.push(now)
      return
    }
    await new Promise(resolve => setTimeout(resolve, 1100 - (now - (opened[0] ?? now))))
  }
}

/** One exchange on a new stream: our frame out, the relay's answer back. */
async function exchange (frame: Uint8Array): Promise<ChainAnswer> {
  await paced()
  const signal = AbortSignal.timeout(30_000)
  const { stream } = await peer.services.sessions.open(relay.peerId, CHAIN_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_CHAIN_FRAME + 1024 })
    await lp.write(frame, { signal })
    const answer = decodeJson(await lp.read({ signal }), validateChainAnswer)
    await stream.close({ signal })
    return answer
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

async function call (method: string, params: unknown[] = []): Promise<ChainAnswer> {
  return await exchange(encodeJson({ jsonrpc: '2.0', id: ++nextId, method, params }, MAX_CHAIN_FRAME))
}

async function result (method: string, params: unknown[] = []): Promise<any> {
  const answer = await call(method, params)
  if ('error' in answer) throw new Error(`${method}: ${answer.error.code} ${answer.error.message}`)
  return answer.result
}

async function errorOf (method: string, params: unknown[] = []): Promise<{ code: number, message: string }> {
  const answer = await call(method, params)
  if (!('error' in answer)) throw new Error(`${method} answered ${JSON.stringify(answer.result)}`)
  return answer.error
}

/** A transaction signed here and sent through the relay's protocol (journaled and mined there). */
async function sendTx (account: PrivateKeyAccount, to: Address, data: Hex): Promise<void> {
  const nonce = Number(await result('eth_getTransactionCount', [account.address, 'pending']))
  const raw = await account.signTransaction({ chainId: deployment.chainId, type: 'eip1559', nonce, to, data, gas: 300_000n, maxFeePerGas: parseEther('0.000001'), maxPriorityFeePerGas: 1n })
  const hash = await result('eth_sendRawTransaction', [raw]) as Hex
  expect((await client.getTransactionReceipt({ hash })).status).toBe('success')
}

/** A new requestor with `amount` tokens in its deposit: faucet, approve, deposit. */
async function requestorWith (amount: bigint): Promise<PrivateKeyAccount> {
  const account = privateKeyToAccount(generatePrivateKey())
  await chain.faucet?.grant(account.address)
  await sendTx(account, chain.info.token, encodeFunctionData({ abi: clayTestTokenAbi, functionName: 'approve', args: [chain.info.deposit, amount] }))
  await sendTx(account, chain.info.deposit, encodeFunctionData({ abi: clayDepositAbi, functionName: 'deposit', args: [amount] }))
  return account
}

const someone = (): Address => privateKeyToAccount(generatePrivateKey()).address

async function cheque (requestor: PrivateKeyAccount, beneficiary: Address, cumulative: bigint, seq = 1n, provider = beneficiary): Promise<ChequeWire> {
  return chequeToWire(await signCheque(requestor, deployment, { requestor: requestor.address, beneficiary, provider, cumulative, seq }))
}

async function tokens (who: Address): Promise<bigint> {
  return await client.readContract({ address: chain.info.token, abi: clayTestTokenAbi, functionName: 'balanceOf', args: [who] })
}

describe('the relay\'s chain over libp2p (/golem-clay/chain/2.0.0)', { timeout: 60_000 }, () => {
  let requestor: PrivateKeyAccount
  let cashed: ChequeWire

  it('tells its deployment, and that it cashes', async () => {
    const { chainId, token, deposit, salt } = chain.info
    expect(await result('clay_info')).toEqual({ mode: 'embedded', chainId, token, deposit, salt, cashes: true })
  })

  it('forwards whitelisted reads and refuses the rest', async () => {
    expect(await result('eth_chainId')).toBe(`0x${deployment.chainId.toString(16)}`)
    expect(await errorOf('eth_accounts')).toMatchObject({ code: -32601 })
    expect(await errorOf('anvil_mine')).toMatchObject({ code: -32601 })
  })

  it('gives test tokens and gas from its faucet, once per address', async () => {
    const newcomer = privateKeyToAccount(generatePrivateKey()).address
    expect(await result('clay_faucet', [newcomer])).toMatchObject({ address: newcomer, tokens: String(100n * TOKEN) })
    expect(await client.getBalance({ address: newcomer })).toBeGreaterThan(0n)
    // the faucet's own limit per address, as over HTTP
    expect(await errorOf('clay_faucet', [newcomer])).toMatchObject({ code: -32005, data: { name: 'FaucetRateLimitedError' } })
    expect((await errorOf('clay_faucet', ['0x12'])).code).toBe(-32602)
    expect((await errorOf('clay_faucet', [])).code).toBe(-32602)
  })

  it('reads a deposit made through it', async () => {
    requestor = await requestorWith(50n * TOKEN)
    const beneficiary = someone()
    const account = await result('clay_account', [requestor.address, beneficiary, beneficiary])
    expect(account).toMatchObject({ deposit: String(50n * TOKEN), unlockAt: 0, paidOut: '0', settledSeq: 0, drawnSeq: 0 })
    expect(account.block).toBe(Number(await client.getBlockNumber({ cacheTime: 0 })))
    expect(await errorOf('clay_account', [requestor.address])).toMatchObject({ code: -32602 })
    expect(await errorOf('clay_account', [requestor.address, beneficiary])).toMatchObject({ code: -32602, message: expect.stringContaining('provider') })
    expect(await errorOf('clay_account', [requestor.address, '0x12', beneficiary])).toMatchObject({ code: -32602, message: expect.stringContaining('beneficiary') })
    expect(await errorOf('clay_account', [requestor.address, beneficiary, '0x12'])).toMatchObject({ code: -32602, message: expect.stringContaining('provider') })
  })

  it('cashes good cheques in one transaction and refuses a forged one by name', async () => {
    const [b1, b2, b3] = [someone(), someone(), someone()]
    const good1 = await cheque(requestor, b1, 3n * TOKEN)
    const good2 = await cheque(requestor, b2, 4n * TOKEN)
    // drawn on the requestor's deposit, signed by someone else
    const forger = privateKeyToAccount(generatePrivateKey())
    const terms = { requestor: requestor.address, beneficiary: b3, provider: b3, cumulative: 5n * TOKEN, seq: 1n }
    const forged: SignedCheque = { deployment, cheque: terms, signature: await forger.signTypedData({ domain: depositDomain(deployment), types: chequeTypes, primaryType: 'Cheque', message: terms }) }

    const results = await result('clay_cash', [[good1, good2, chequeToWire(forged)]])
    expect(results).toHaveLength(3)
    expect(results[0]).toMatchObject({ ok: true, payout: String(3n * TOKEN) })
    expect(results[1]).toMatchObject({ ok: true, payout: String(4n * TOKEN) })
    expect(results[0].tx).toBe(results[1].tx)
    expect(results[2]).toMatchObject({ ok: false, error: { name: 'WrongSignerError' } })
    expect(await tokens(b1)).toBe(3n * TOKEN)
    expect(await tokens(b2)).toBe(4n * TOKEN)
    expect(await tokens(b3)).toBe(0n)
    const receipt = await client.getTransactionReceipt({ hash: results[0].tx })
    expect(receipt.status).toBe('success')
    expect(receipt.from.toLowerCase()).toBe(chain.txSender?.address.toLowerCase())
    // read fresh after cashing
    expect(await result('clay_account', [requestor.address, b1, b1])).toMatchObject({ deposit: String(43n * TOKEN), paidOut: String(3n * TOKEN), settledSeq: 1 })
    cashed = good1
  })

  it('reads one account per provider, and an account whose settled seq is beyond what the wire carries', async () => {
    const b = someone()
    // a requestor may sign and cash any seq up to 2^64-1: the read must not fail on it
    const signed = await signCheque(requestor, deployment, { requestor: requestor.address, beneficiary: b, provider: b, cumulative: 1n, seq: 2n ** 64n - 1n })
    const receipt = await chain.txSender?.submit({ kind: 'cashout', to: deployment.address, data: encodeFunctionData({ abi: clayDepositAbi, functionName: 'cashCheque', args: [signed.cheque, signed.signature] }) })
    expect(receipt?.status).toBe('success')
    expect(await result('clay_account', [requestor.address, b, b])).toMatchObject({ paidOut: '1', settledSeq: Number.MAX_SAFE_INTEGER })
    // the same beneficiary for another provider's work: another account, untouched
    expect(await result('clay_account', [requestor.address, b, someone()])).toMatchObject({ paidOut: '0', settledSeq: 0 })
  })

  it('refuses a replayed cheque with the contract\'s reason', async () => {
    const [again] = await result('clay_cash', [[cashed]])
    expect(again).toMatchObject({ ok: false, error: { name: 'ChequeNotHigher' } })
  })

  it('cashes only the highest of a pair\'s cheques, which pays for the lower ones too', async () => {
    const b = someone()
    const results = await result('clay_cash', [[await cheque(requestor, b, 1n * TOKEN, 1n), await cheque(requestor, b, 2n * TOKEN, 2n)]])
    expect(results[0]).toEqual(results[1])
    expect(results[1]).toMatchObject({ ok: true, payout: String(2n * TOKEN) })
    expect(await tokens(b)).toBe(2n * TOKEN)
  })

  it('cashes the cheques of two providers working for one beneficiary in one batch, each from its own account', async () => {
    const [owner, p1, p2] = [someone(), someone(), someone()]
    const results = await result('clay_cash', [[await cheque(requestor, owner, 2n * TOKEN, 2n, p1), await cheque(requestor, owner, 1n * TOKEN, 1n, p2)]])
    expect(results.map((r: any) => r.payout)).toEqual([String(2n * TOKEN), String(1n * TOKEN)])
    expect(await tokens(owner)).toBe(3n * TOKEN)
    expect(await result('clay_account', [requestor.address, owner, p1])).toMatchObject({ paidOut: String(2n * TOKEN), settledSeq: 2 })
    expect(await result('clay_account', [requestor.address, owner, p2])).toMatchObject({ paidOut: String(1n * TOKEN), settledSeq: 1 })
  })

  it('puts the cheques of callers within one batch window into one transaction', async () => {
    const [b1, b2] = [someone(), someone()]
    const [[first], [second]] = await Promise.all([
      result('clay_cash', [[await cheque(requestor, b1, TOKEN)]]),
      result('clay_cash', [[await cheque(requestor, b2, TOKEN)]])
    ])
    expect(first).toMatchObject({ ok: true, payout: String(TOKEN) })
    expect(second).toMatchObject({ ok: true, payout: String(TOKEN) })
    expect(first.tx).toBe(second.tx)
  })

  it('cashes one by one when the batch would revert (together over the deposit)', async () => {
    const poor = await requestorWith(10n * TOKEN)
    const [b1, b2] = [someone(), someone()]
    // each alone fits the deposit: both pass the simulation, the batch of both does not
    const results = await result('clay_cash', [[await cheque(poor, b1, 8n * TOKEN), await cheque(poor, b2, 8n * TOKEN)]])
    expect(results[0]).toMatchObject({ ok: true, payout: String(8n * TOKEN) })
    expect(results[1]).toMatchObject({ ok: false, error: { name: 'InsufficientDeposit' } })
    expect(await tokens(b1)).toBe(8n * TOKEN)
    expect(await tokens(b2)).toBe(0n)
  })

  it('refuses malformed cheques and cheques for another deployment as a whole', async () => {
    expect(await errorOf('clay_cash', [[{ v: 1 }]])).toMatchObject({ code: -32011, message: expect.stringContaining('cheque 0') })
    const other = chequeToWire(await signCheque(requestor, { ...deployment, salt: `0x${'11'.repeat(32)}` }, { requestor: requestor.address, beneficiary: someone(), provider: someone(), cumulative: TOKEN, seq: 1n }))
    expect(await errorOf('clay_cash', [[other]])).toMatchObject({ code: -32011, data: { index: 0, name: 'WrongDeploymentError' } })
    expect(await errorOf('clay_cash', [[]])).toMatchObject({ code: -32602 })
  })

  it('answers a frame that is not JSON with a parse error, drops an oversized one, and serves the same peer on', async () => {
    expect(await exchange(new TextEncoder().encode('{ not json'))).toMatchObject({ id: null, error: { code: -32700 } })
    expect(await exchange(encodeJson({ jsonrpc: '2.0', id: 7, method: 5 }, MAX_CHAIN_FRAME))).toMatchObject({ id: 7, error: { code: -32600 } })
    await expect(exchange(new Uint8Array(MAX_CHAIN_FRAME + 1).fill(32))).rejects.toThrow()
    expect(await result('eth_chainId')).toBe(`0x${deployment.chainId.toString(16)}`)
  })
})
