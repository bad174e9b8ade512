import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { parseDeployConfig } from './deploy-config.ts'
import { DEPLOY_PATHS, renderCertbotHook } from './deploy-files.ts'

const execFileP = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '')
const SEED = '/dns4/relay1.example.org/tcp/9091/p2p/12D3KooWGRUVh7cBHkHKTg7CxW5VzVnK5h6hvPKHkGZG2t3NhHZV'
const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

async function scratch (name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `gc-deploy-${name}-`))
  dirs.push(dir)
  return dir
}

/** npm run deploy -- <args>, with PATH holding only `path` (so whether certbot is "installed" is the test's choice). */
async function deploy (args: string[], path: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/deploy/deploy.ts', ...args], { cwd: ROOT, env: { PATH: path, HOME: path }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += String(d) })
  child.stderr.on('data', (d) => { stderr += String(d) })
  const code = await new Promise<number | null>(resolve => { child.on('exit', resolve) })
  return { code, stdout, stderr }
}

async function filesUnder (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => `/${relative(dir, join(e.parentPath, e.name))}`).sort()
}

const groupMissing = async (): Promise<boolean> => !(await readFile('/etc/group', 'utf8').catch(() => '')).split('\n').some(l => l.startsWith('golem-clay-tls:'))

describe('npm run deploy', () => {
  it('--dry-run --root writes the unit, its drop-in, relay.env and certbot\'s hook under the root, and prints the commands in order', async () => {
    const root = await scratch('root')
    const bin = await scratch('bin') // no certbot here
    const { code, stdout, stderr } = await deploy(['--domain', 'Relay.Example.org', '--email', 'ops@example.org', '--seed', SEED, '--root', root, '--dry-run'], bin)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(await filesUnder(root)).toEqual([DEPLOY_PATHS.hook, DEPLOY_PATHS.env, DEPLOY_PATHS.unit, DEPLOY_PATHS.dropIn].sort())

    const unit = await readFile(join(root, DEPLOY_PATHS.unit), 'utf8')
    expect(unit).toContain(`ExecStart=${ROOT}/node_modules/node/bin/node --initial-old-space-size=128 --import tsx relay/bin/relay.ts --data \${STATE_DIRECTORY}\n`)
    expect(unit).toContain('ExecReload=/bin/kill -HUP $MAINPID\n')
    expect(unit).toContain('EnvironmentFile=-/etc/golem-clay/relay.env\n')
    expect(await readFile(join(root, DEPLOY_PATHS.env), 'utf8')).toMatch(new RegExp(`\n${[
      'GOLEM_CLAY_HTTP_PORT=443',
      'GOLEM_CLAY_WSS_PORT=9443',
      'GOLEM_CLAY_ANNOUNCE=/dns4/relay.example.org/tcp/9443/tls/ws,/dns4/relay.example.org/tcp/9091',
      'GOLEM_CLAY_TLS_CERT=/etc/golem-clay/tls/fullchain.pem',
      'GOLEM_CLAY_TLS_KEY=/etc/golem-clay/tls/privkey.pem',
      'GOLEM_CLAY_METRICS_LISTEN=127.0.0.1:9464',
      `GOLEM_CLAY_SEEDS=${SEED}`
    ].join('\n')}\n$`))
    const dropIn = await readFile(join(root, DEPLOY_PATHS.dropIn), 'utf8')
    for (const line of ['[Service]', 'SupplementaryGroups=golem-clay-tls', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE']) expect(dropIn).toContain(`${line}\n`)
    expect((await stat(join(root, DEPLOY_PATHS.hook))).mode & 0o777).toBe(0o755)
    expect((await stat(join(root, DEPLOY_PATHS.env))).mode & 0o777).toBe(0o640)

    const commands = stdout.split('\n').filter(l => l.startsWith('[dry run] ')).map(l => l.slice('[dry run] '.length))
    expect(commands).toEqual([
      ...(await groupMissing() ? ['groupadd --system golem-clay-tls'] : []),
      'DEBIAN_FRONTEND=noninteractive apt-get update',
      'DEBIAN_FRONTEND=noninteractive apt-get install -y certbot',
      'systemctl daemon-reload',
      'certbot certonly --non-interactive --agree-tos --keep-until-expiring --standalone --preferred-challenges http -d relay.example.org --email ops@example.org --deploy-hook /etc/golem-clay/certbot-deploy-hook',
      'RENEWED_LINEAGE=/etc/letsencrypt/live/relay.example.org /etc/golem-clay/certbot-deploy-hook',
      'systemctl enable --now golem-clay-relay.service',
      'read https://127.0.0.1:443/status (the relay\'s addresses, with its peer ID)'
    ])
    expect(stdout).toContain('the relay would be at https://relay.example.org/\n')
    expect(stdout).toContain('  /dns4/relay.example.org/tcp/9443/tls/ws\n  /dns4/relay.example.org/tcp/9091\n')
    for (const port of ['80 ', '443 ', '9443', '9091']) expect(stdout).toMatch(new RegExp(`\n {2}${port}\\s+\\S`))
    expect(stdout).toContain('/metrics stays private on 127.0.0.1:9464')
  })

  it('with certbot installed, --webroot and a high --http-port: no apt-get, no port 80, no capability', async () => {
    const root = await scratch('root')
    const bin = await scratch('bin')
    await writeFile(join(bin, 'certbot'), '#!/bin/sh\nexit 1\n', { mode: 0o755 })
    const { code, stdout } = await deploy(['--domain', 'relay.example.org', '--webroot', '/var/www/certbot', '--http-port', '8443', '--root', root, '--dry-run'], bin)
    expect(code).toBe(0)
    expect(stdout).not.toContain('apt-get')
    expect(stdout).toContain('[dry run] certbot certonly --non-interactive --agree-tos --keep-until-expiring --webroot -w /var/www/certbot -d relay.example.org --register-unsafely-without-email --deploy-hook /etc/golem-clay/certbot-deploy-hook\n')
    expect(stdout).toContain('[dry run] read https://127.0.0.1:8443/status')
    expect(stdout).toContain('https://relay.example.org:8443/')
    expect(stdout).not.toMatch(/\n {2}80\s/)
    expect(await readFile(join(root, DEPLOY_PATHS.dropIn), 'utf8')).not.toContain('CAP_NET_BIND_SERVICE')
  })

  it('running again keeps the previous relay.env as relay.env.bak', async () => {
    const root = await scratch('root')
    const bin = await scratch('bin')
    expect((await deploy(['--domain', 'relay.example.org', '--root', root, '--dry-run'], bin)).code).toBe(0)
    const first = await readFile(join(root, DEPLOY_PATHS.env), 'utf8')
    expect((await deploy(['--domain', 'relay.example.org', '--seed', SEED, '--root', root, '--dry-run'], bin)).code).toBe(0)
    expect(await readFile(join(root, `${DEPLOY_PATHS.env}.bak`), 'utf8')).toBe(first)
    expect(await readFile(join(root, DEPLOY_PATHS.env), 'utf8')).toContain(`GOLEM_CLAY_SEEDS=${SEED}\n`)
  })

  it('--dry-run alone writes nothing: it names the files it would write', async () => {
    const bin = await scratch('bin')
    const { code, stdout } = await deploy(['--domain', 'relay.example.org', '--dry-run'], bin)
    expect(code).toBe(0)
    for (const path of Object.values(DEPLOY_PATHS).filter(p => p !== DEPLOY_PATHS.tlsDir)) expect(stdout).toContain(`[dry run] write ${path} (`)
    expect(stdout).not.toContain('wrote ')
  })

  it.each([
    [[], '--domain is required'],
    [['--domain', '203.0.113.7'], '--domain must be a DNS name'],
    [['--domain', 'https://relay.example.org'], '--domain must be a DNS name'],
    [['--domain', 'relay.example.org:443'], '--domain must be a DNS name'],
    [['--domain', 'localhost'], '--domain must be a DNS name'],
    [['--domain', 'relay.example.org', '--email', 'ops'], '--email must be an email address'],
    [['--domain', 'relay.example.org', '--seed', '/dns4/relay1.example.org/tcp/9091'], 'must end with /p2p/<peer ID>'],
    [['--domain', 'relay.example.org', '--seed', '/ip4/nope'], 'is not a valid multiaddr'],
    [['--domain', 'relay.example.org', '--webroot', 'www'], '--webroot must be an absolute path'],
    [['--domain', 'relay.example.org', '--root', '/tmp/somewhere'], '--root needs --dry-run'],
    [['--domain', 'relay.example.org', '--bogus'], "Unknown option '--bogus'"]
  ])('refuses %j with one clear line and exit code 2, touching nothing', async (args, message) => {
    const root = await scratch('root')
    const bin = await scratch('bin')
    const { code, stdout, stderr } = await deploy([...args, ...(args.includes('--root') ? [] : ['--root', root, '--dry-run'])], bin)
    expect(stderr).toContain(message)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(await filesUnder(root)).toEqual([])
  })

  it('--help describes every flag and exits 0', async () => {
    const { code, stdout } = await deploy(['--help'], await scratch('bin'))
    expect(code).toBe(0)
    for (const flag of ['--domain <name>', '--email <address>', '--seed <multiaddr,...>', '--webroot <dir>', '--root <dir>', '--dry-run']) expect(stdout).toContain(flag)
  })

  it('the unit with its drop-in passes systemd-analyze verify; a broken drop-in is reported', async () => {
    const root = await scratch('root')
    expect((await deploy(['--domain', 'relay.example.org', '--root', root, '--dry-run'], await scratch('bin'))).code).toBe(0)
    const verify = async (): Promise<string> => {
      const { stdout, stderr } = await execFileP('systemd-analyze', ['verify', '--man=no', join(root, DEPLOY_PATHS.unit)])
      return `${stdout}${stderr}`
    }
    expect(await verify()).toBe('')
    await writeFile(join(root, DEPLOY_PATHS.dropIn), `${await readFile(join(root, DEPLOY_PATHS.dropIn), 'utf8')}SupplementaryGroup=golem-clay-tls\n`)
    expect(await verify()).toContain("Unknown key 'SupplementaryGroup'")
  })

  it('certbot\'s deploy hook copies the certificate for the service\'s group, renamed into place, then reloads a running relay', async () => {
    const dir = await scratch('hook')
    const lineage = join(dir, 'live/relay.example.org')
    await mkdir(lineage, { recursive: true })
    await writeFile(join(lineage, 'fullchain.pem'), 'CERT\n')
    await writeFile(join(lineage, 'privkey.pem'), 'KEY\n', { mode: 0o600 })
    // stand-ins that log their arguments: install without -o/-g (no such group here), systemctl not at all
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await writeFile(join(bin, 'install'), `#!/bin/sh
echo "install $*" >> ${dir}/calls
args=""; while [ $# -gt 0 ]; do case "$1" in -o|-g) shift 2 ;; *) args="$args $1"; shift ;; esac; done
exec /usr/bin/install $args
`, { mode: 0o755 })
    await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> ${dir}/calls\n`, { mode: 0o755 })
    const tls = join(dir, 'tls')
    const hook = join(dir, 'hook')
    const config = parseDeployConfig(['--domain', 'relay.example.org'])
    if (config.help) throw new Error('unexpected --help')
    await writeFile(hook, renderCertbotHook(config.config).replaceAll(DEPLOY_PATHS.tlsDir, tls), { mode: 0o755 })
    await execFileP('sh', ['-n', hook])
    await execFileP(hook, [], { env: { PATH: `${bin}:/usr/bin:/bin`, RENEWED_LINEAGE: lineage } })

    expect(await readFile(join(tls, 'fullchain.pem'), 'utf8')).toBe('CERT\n')
    expect(await readFile(join(tls, 'privkey.pem'), 'utf8')).toBe('KEY\n')
    for (const name of ['fullchain.pem', 'privkey.pem']) expect((await stat(join(tls, name))).mode & 0o777).toBe(0o640)
    expect((await stat(tls)).mode & 0o777).toBe(0o750)
    expect((await readdir(tls)).sort()).toEqual(['fullchain.pem', 'privkey.pem'])
    const calls = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n')
    expect(calls).toEqual([
      `install -d -m 0750 -o root -g golem-clay-tls ${tls}`,
      `install -m 0640 -o root -g golem-clay-tls ${lineage}/privkey.pem ${tls}/.privkey.pem.new`,
      `install -m 0640 -o root -g golem-clay-tls ${lineage}/fullchain.pem ${tls}/.fullchain.pem.new`,
      'systemctl try-reload-or-restart golem-clay-relay.service'
    ])
    // and it stops at the first failure (set -e): no reload of a half-copied pair
    await rm(join(lineage, 'fullchain.pem'))
    await rm(join(dir, 'calls'))
    await expect(execFileP(hook, [], { env: { PATH: `${bin}:/usr/bin:/bin`, RENEWED_LINEAGE: lineage } })).rejects.toThrow()
    expect(await readFile(join(dir, 'calls'), 'utf8')).not.toContain('systemctl')
    expect(existsSync(join(tls, 'fullchain.pem'))).toBe(true)
  })
})
