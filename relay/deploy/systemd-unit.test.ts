import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidConfigError } from '../../shared/errors.ts'
import { renderSystemdUnit } from './systemd-unit.ts'

const run = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '')
const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

/** systemd's own check of a unit file: exit code and what it said. */
async function verify (unit: string): Promise<{ code: number, output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gc-unit-'))
  dirs.push(dir)
  const file = join(dir, 'golem-clay-relay.service')
  await writeFile(file, unit)
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', '--man=no', file])
    return { code: 0, output: `${stdout}${stderr}` }
  } catch (err: any) {
    return { code: err.code ?? 1, output: `${String(err.stdout)}${String(err.stderr)}` }
  }
}

describe('systemd unit', () => {
  it('renders for this checkout and passes systemd-analyze verify, hardened', async () => {
    const unit = await renderSystemdUnit({ appDir: ROOT, args: ['--announce', '/dns4/relay.example.org/tcp/443/wss'] })
    expect(unit).toContain(`ExecStart=${ROOT}/node_modules/node/bin/node --initial-old-space-size=128 --import tsx relay/bin/relay.ts --data \${STATE_DIRECTORY} --announce /dns4/relay.example.org/tcp/443/wss\n`)
    for (const line of ['DynamicUser=yes', 'StateDirectory=golem-clay', 'ProtectSystem=strict', 'Restart=on-failure', 'LimitNOFILE=65536', 'NoNewPrivileges=yes', 'ExecReload=/bin/kill -HUP $MAINPID']) expect(unit).toContain(`${line}\n`)
    expect(await verify(unit)).toEqual({ code: 0, output: '' })
  })

  it('the check can fail: a unit whose program is missing does not pass', async () => {
    const unit = await renderSystemdUnit({ appDir: join(ROOT, 'no-such-folder') })
    const result = await verify(unit)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('is not executable')
  })

  it('refuses a folder or flag that would break the unit', async () => {
    await expect(renderSystemdUnit({ appDir: 'relative/path' })).rejects.toThrow(InvalidConfigError)
    await expect(renderSystemdUnit({ appDir: '/opt/golem clay' })).rejects.toThrow(InvalidConfigError)
    await expect(renderSystemdUnit({ appDir: '/opt/golem-clay', args: ['--seed', 'x; rm -rf /'] })).rejects.toThrow(InvalidConfigError)
  })
})
