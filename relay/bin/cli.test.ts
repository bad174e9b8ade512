import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePaymentKey, paymentAddressOf } from '../../shared/payments/index.ts'
import { startTestRelay } from '../testing/relays.ts'
import { RELAY_NODE_FLAGS } from './node-flags.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'

const ROOT = new URL('../../', import.meta.url).pathname

/** Runs a CLI to completion (or until `stopWhen` matches, then SIGINT); one that hangs is killed after `killAfter` ms. */
async function run (script: string, args: string[], stopWhen?: RegExp, killAfter = 60_000): Promise<{ code: number | null, stdout: string, stderr: string, ms: number }> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  const killer = setTimeout(() => { child.kill('SIGKILL') }, killAfter)
  let stdout = ''
  let stderr = ''
  let signalled = false
  child.stdout.on('data', (d) => {
    stdout += String(d)
    // once: the relay keeps writing (its log) while it stops, and a second SIGINT means "exit now"
    if (!signalled && stopWhen?.test(stdout) === true) {
      signalled = true
      child.kill('SIGINT')
    }
  })
  child.stderr.on('data', (d) => { stderr += String(d) })
  const code = await new Promise<number | null>(resolve => { child.on('exit', resolve) })
  clearTimeout(killer)
  return { code, stdout, stderr, ms: Date.now() - started }
}

/** What a person must never see from the CLI: stack frames or objects printed as "[object …]". */
function expectHumanOutput (output: string): void {
  expect(output).not.toMatch(/\n\s+at /)
  expect(output).not.toContain('[object ')
}

describe('relay CLI', () => {
  it('npm start, npm run relay and npm run peer give Node its flags', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    for (const [name, entry] of [['start', 'relay/bin/relay.ts'], ['relay', 'relay/bin/relay.ts'], ['peer', 'relay/bin/peer.ts']]) {
      const command = scripts[name as string] ?? ''
      const node = command.slice(command.indexOf('node '), command.indexOf(entry as string))
      expect(node, name).not.toBe('')
      for (const flag of RELAY_NODE_FLAGS) expect(node.split(' '), name).toContain(flag)
    }
  })

  it('prints help and exits 0', async () => {
    const { code, stdout } = await run('relay/bin/relay.ts', ['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('--http-port <port>')
    expect(stdout).toContain('GOLEM_CLAY_HTTP_PORT')
  })

  it.each([
    [['--http-port', 'abc'], '--http-port must be a port number'],
    [['--announce', '/ip4/nope'], 'is not a valid multiaddr'],
    [['--host', 'not-an-ip', '--data', '/tmp/gc-cli-host'], '--host must be an IPv4 or IPv6 address']
  ])('refuses %j with one clear line and exit code 2', async (args, message) => {
    const { code, stderr } = await run('relay/bin/relay.ts', args)
    expect(code).toBe(2)
    expect(stderr).toContain(message)
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('uses the payment key brought with --payment-key-file, and refuses one others may read with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-cli-'))
    const file = join(dir, 'pay')
    const key = generatePaymentKey()
    await writeFile(file, key, { mode: 0o600 })
    const args = ['--data', dir, '--payment-key-file', file, '--http-port', '0', '--tcp-port', '0', '--ws-port', '0', '--metrics-listen', 'off']
    const { code, stdout } = await run('relay/bin/relay.ts', args, /relay ready at/)
    expect(stdout).toContain(`payment    ${paymentAddressOf(key)}\n`)
    expect(code).toBe(0)
    await chmod(file, 0o644)
    const refused = await run('relay/bin/relay.ts', args)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(`chmod 600 ${file}`)
    expectHumanOutput(refused.stderr)
  })

  it('reports a taken port clearly', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '0.0.0.0', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const dir = await mkdtemp(join(tmpdir(), 'gc-cli-'))
      const { code, stderr } = await run('relay/bin/relay.ts', ['--data', dir, '--http-port', '0', '--tcp-port', '0', '--ws-port', String(port), '--metrics-listen', '127.0.0.1:0'])
      expect(code).toBe(2)
      expect(stderr).toContain(`Port ${port} is already in use`)
      expect(stderr).toContain('--ws-port')
    } finally {
      blocker.close()
    }
  })

  it('starts, announces its URL and shuts down cleanly on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-cli-'))
    const { code, stdout, stderr } = await run('relay/bin/relay.ts', ['--data', dir, '--http-port', '0', '--tcp-port', '0', '--ws-port', '0', '--metrics-listen', '127.0.0.1:0'], /relay ready at/)
    expect(stdout).toMatch(/peer ID\s+12D3KooW\w+ \(new identity\)/)
    expect(stdout).toMatch(/payment\s+0x[0-9a-fA-F]{40} \(new account\)/)
    expect(stdout).toMatch(/metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/)
    expect(stdout).toMatch(/relay ready at http:\/\/localhost:\d+\//)
    expect(stderr).toContain('SIGINT received, shutting down')
    expect(stderr).toContain('stopped')
    expect(code).toBe(0)
  })
})

describe('peer CLI', () => {
  it('keeps retrying an unreachable relay URL with backoff, saying so', async () => {
    const { stdout } = await run('relay/bin/peer.ts', ['--json', '--relay', 'http://127.0.0.1:1'], /"retryInMs"[\s\S]*"retryInMs"/)
    const waits = stdout.trim().split('\n').map(l => JSON.parse(l)).filter(e => e.event === 'waiting')
    expect(waits.length).toBeGreaterThanOrEqual(2)
    expect(waits[0].message).toContain('Relay at 127.0.0.1:1 is unreachable')
  })

  it('refuses a relay multiaddr without a peer ID', async () => {
    const { code, stderr } = await run('relay/bin/peer.ts', ['--relay', '/ip4/127.0.0.1/tcp/9091'])
    expect(code).toBe(2)
    expect(stderr).toContain('must end with /p2p/<peer ID>')
  })
})

// each case is its own peer process: run them side by side, with room for a busy machine
describe.concurrent('peer CLI --exec', { timeout: 90_000 }, () => {
  const running: RelayNode[] = []
  let relay: string
  beforeAll(async () => {
    const node = await startTestRelay(running)
    const addr = node.getMultiaddrs().find(ma => ma.toString().startsWith('/ip4/127.0.0.1/tcp/') && !ma.toString().includes('/ws'))
    relay = String(addr)
  })
  afterAll(async () => { await Promise.all(running.map(async n => { await n.stop() })) })

  const peer = async (...args: string[]): ReturnType<typeof run> => await run('relay/bin/peer.ts', ['--relay', relay, '--timeout', '30s', ...args])

  it('exits 0 after the last command, quietly, reporting each change once', async () => {
    const { code, stdout, stderr } = await peer('--exec', 'peers', '--exec', 'tasks')
    expect(stdout).toContain('reachable through the relay')
    expect(stdout).toContain('no open tasks seen')
    expect(stderr).not.toContain('SIGINT')
    expect(stderr).not.toContain('MaxListenersExceeded')
    // a relay's state or the peer count is said once per change, not once per refresh
    const lines = stdout.trim().split('\n')
    expect(lines.filter((line, i) => line === lines[i - 1])).toEqual([])
    expect(lines.filter(l => l.endsWith(': reserved'))).toHaveLength(1)
    expectHumanOutput(stdout + stderr)
    expect(code).toBe(0)
  })

  it.each([
    ['frobnicate', 'unknown command "frobnicate" (try: help)'],
    ['task run mandelbrot --size abc', 'task failed: --size takes WIDTHxHEIGHT in pixels'],
    ['task run mandelbrot --size 99999x99999', 'task failed: --size width must be a whole number from 16 to 4,096 px, not 99,999'],
    ['task run primes --to 10 --parts x', 'task failed: --parts must be a whole number, not "x"'],
    ['put /nonexistent/gc-file', 'put failed: /nonexistent/gc-file: no such file or folder'],
    ['get garbage x', /get failed: [^\n]*address/],
    ['deposit 1', 'deposit failed: this peer\'s relays run no chain']
  ])('exits 1 when %j fails, saying why in words', async (command, message) => {
    const { code, stdout, stderr } = await peer('--exec', command, '--exec', 'peers')
    expect(stdout).toMatch(message)
    // the run stops at the failure
    expect(stdout).not.toMatch(/no peers yet|node {2}/)
    expectHumanOutput(stdout + stderr)
    expect(code).toBe(1)
  })

  it('gives up on an absent peer after --timeout, exit code 1', async () => {
    const absent = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    // time enough for the lookups that find the peer absent (they took over 3 s once under the whole suite's load)
    const { code, stdout, stderr } = await run('relay/bin/peer.ts', ['--relay', relay, '--timeout', '8s', '--exec', `send ${absent} are you there?`])
    expect(stdout).toContain(`${absent} is not reachable now`)
    expect(stdout).toContain('send failed: gave up after 8 s (--timeout)')
    expectHumanOutput(stdout + stderr)
    expect(code).toBe(1)
  })

  it.each([
    ['a URL', 'http://127.0.0.1:1', 'Relay at 127.0.0.1:1 is unreachable'],
    ['a multiaddr', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRuDYU4fUvFURjbr8YtjgBarrTd9L2xWyZACNFzuNb5B5', 'ECONNREFUSED']
  ])('gives up on an unreachable relay (%s) after --timeout, exit code 1', async (_kind, unreachable, reason) => {
    const { code, stderr, ms } = await run('relay/bin/peer.ts', ['--relay', unreachable, '--timeout', '2s', '--exec', 'peers'])
    expect(stderr).toContain('could not join the network within 2 s (--timeout)')
    expect(stderr).toContain(reason)
    expectHumanOutput(stderr)
    expect(code).toBe(1)
    expect(ms).toBeLessThan(30_000)
  })

  it('refuses a bad --timeout with exit code 2', async () => {
    const { code, stderr } = await run('relay/bin/peer.ts', ['--timeout', 'soon', '--exec', 'peers'])
    expect(stderr).toContain('--timeout (GOLEM_CLAY_TIMEOUT) must be a duration like 30s, 5m or 1h')
    expectHumanOutput(stderr)
    expect(code).toBe(2)
  })
})
