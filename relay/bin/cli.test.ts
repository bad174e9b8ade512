import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RELAY_NODE_FLAGS } from './node-flags.ts'

const ROOT = new URL('../../', import.meta.url).pathname

/** Runs a CLI to completion (or until `stopWhen` matches, then SIGINT). */
async function run (script: string, args: string[], stopWhen?: RegExp): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
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
  return { code, stdout, stderr }
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
