import { createServer } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http, keccak256, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chainHttpHandler, createEmbeddedChain } from './index.ts'
import type { ChainHttpInit, EmbeddedChain } from './index.ts'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

let dir: string
let chain: EmbeddedChain
const servers: Server[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gc-chain-http-'))
  chain = createEmbeddedChain({}, { dir: join(dir, 'chain'), faucet: { addressIntervalMs: 60_000 } })
  await chain.start()
})
afterAll(async () => {
  for (const server of servers) server.close()
  await chain?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** The handler on a server of its own; answers the base URL. */
async function serve (components: Parameters<typeof chainHttpHandler>[0], init: ChainHttpInit = {}): Promise<string> {
  const handler = chainHttpHandler(components, init)
  const server = createServer((req, res) => { handler.handle(req, res) })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function post (url: string, body: unknown): Promise<{ status: number, json: any, headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.status, json: await res.json(), headers: res.headers }
}

const call = (method: string, params: unknown[] = [], id: unknown = 1): object => ({ jsonrpc: '2.0', id, method, params })

describe('the chain over the relay\'s HTTP', () => {
  it('tells tabs the chain, contracts and faucet', async () => {
    const base = await serve({ chain })
    const res = await fetch(`${base}/chain`)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.json()).toEqual({ ...chain.info, rpc: '/chain/rpc', faucet: { url: '/chain/faucet', tokens: String(100n * 10n ** 18n), gas: String(parseEther('1')) } })
    const without = await serve({})
    expect((await fetch(`${without}/chain`)).status).toBe(404)
    expect((await post(`${without}/chain/rpc`, call('eth_chainId'))).json.code).toBe('NO_CHAIN')
  })

  it('forwards whitelisted reads, refuses everything else', async () => {
    const base = await serve({ chain })
    expect(await post(`${base}/chain/rpc`, call('eth_chainId', [], 'a'))).toMatchObject({ status: 200, json: { jsonrpc: '2.0', id: 'a', result: '0x7a69' } })
    const batch = await post(`${base}/chain/rpc`, [
      call('eth_blockNumber', [], 1),
      call('anvil_setBalance', [chain.info.deposit, '0x1'], 2),
      call('eth_sendTransaction', [{}], 3),
      call('eth_accounts', [], 4),
      call('evm_mine', [], 5),
      call('personal_sign', [], 6),
      call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x5000' }], 7),
      call('eth_getLogs', [{ fromBlock: '0x0', address: chain.info.deposit }], 8),
      call('eth_getBlockByNumber', ['latest', true], 9)
    ])
    expect(batch.status).toBe(200)
    const byId = new Map(batch.json.map((r: any) => [r.id, r]))
    expect(byId.get(1)).toMatchObject({ result: expect.stringMatching(/^0x/) })
    for (const id of [2, 3, 4, 5, 6]) expect(byId.get(id)).toMatchObject({ error: { code: -32601 } })
    expect(byId.get(7)).toMatchObject({ error: { code: -32602, message: expect.stringMatching(/at most 10000/) } })
    expect(byId.get(8)).toMatchObject({ result: expect.any(Array) })
    expect(byId.get(9)).toMatchObject({ error: { code: -32602 } })

    const tooMany = await post(`${base}/chain/rpc`, Array.from({ length: 21 }, (_, i) => call('eth_chainId', [], i)))
    expect(tooMany).toMatchObject({ status: 400, json: { error: { code: -32600 } } })
    const tooBig = await post(`${base}/chain/rpc`, call('eth_call', [{ data: `0x${'00'.repeat(40_000)}` }]))
    expect(tooBig.status).toBe(413)
    expect((await post(`${base}/chain/rpc`, '{not json')).json).toMatchObject({ error: { code: -32700 } })
    expect((await fetch(`${base}/chain/rpc`)).status).toBe(405)
  })

  it('sends a tab\'s signed transaction through the journal', async () => {
    const base = await serve({ chain })
    const tab = privateKeyToAccount(generatePrivateKey())
    expect(await post(`${base}/chain/faucet`, { address: tab.address })).toMatchObject({ status: 200, json: { address: tab.address, transactions: expect.any(Array) } })
    expect(await post(`${base}/chain/faucet`, { address: tab.address })).toMatchObject({ status: 429, json: { code: 'FAUCET_RATE_LIMITED' } })
    expect(await post(`${base}/chain/faucet`, { address: 'nobody' })).toMatchObject({ status: 400, json: { code: 'FAUCET_REFUSED' } })

    // the tab reads and sends through the relay only, as viem does it
    const client = createPublicClient({ transport: http(`${base}/chain/rpc`) })
    const nonce = await client.getTransactionCount({ address: tab.address })
    const fees = await client.estimateFeesPerGas()
    const raw = await tab.signTransaction({ chainId: chain.info.chainId, type: 'eip1559', nonce, to: tab.address, value: 1n, gas: 21_000n, ...fees })
    const hash = await client.sendRawTransaction({ serializedTransaction: raw })
    expect((await client.waitForTransactionReceipt({ hash, pollingInterval: 50 })).status).toBe('success')
    expect(await readFile(join(dir, 'chain', 'journal.jsonl'), 'utf8')).toContain(hash)
    // sent again: the same hash, nothing new
    expect(await client.sendRawTransaction({ serializedTransaction: raw })).toBe(hash)
    // one that can't be mined now (a nonce gap) is refused and kept nowhere: it would land some time later
    const gap = await tab.signTransaction({ chainId: chain.info.chainId, type: 'eip1559', nonce: nonce + 5, to: tab.address, value: 1n, gas: 21_000n, ...fees })
    expect((await post(`${base}/chain/rpc`, call('eth_sendRawTransaction', [gap]))).json).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/could not be mined/) } })
    expect((await post(`${base}/chain/rpc`, call('eth_getTransactionByHash', [keccak256(gap)]))).json).toMatchObject({ result: null })
    expect(await readFile(join(dir, 'chain', 'journal.jsonl'), 'utf8')).toContain(`{"drop":"${keccak256(gap)}"}`)
    // another chain's transaction is refused before it gets anywhere
    const foreign = await tab.signTransaction({ chainId: 1, type: 'eip1559', nonce: nonce + 1, to: tab.address, value: 1n, gas: 21_000n, ...fees })
    expect((await post(`${base}/chain/rpc`, call('eth_sendRawTransaction', [foreign]))).json).toMatchObject({ error: { code: -32602, message: expect.stringMatching(/chain 1/) } })
  })

  it('limits each address\'s calls', async () => {
    const base = await serve({ chain }, { rpcRate: { perSecond: 0.1, burst: 5 } })
    expect((await post(`${base}/chain/rpc`, Array.from({ length: 5 }, (_, i) => call('eth_chainId', [], i)))).status).toBe(200)
    const limited = await post(`${base}/chain/rpc`, call('eth_chainId'))
    expect(limited).toMatchObject({ status: 429, json: { error: { code: -32005 } } })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
