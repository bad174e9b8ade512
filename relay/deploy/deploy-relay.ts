import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { delimiter, dirname, join } from 'node:path'
import { GolemClayError } from '../../shared/errors.ts'
import { announceAddrs, DEPLOY_PATHS, letsencryptLive, METRICS_LISTEN, pageUrl, publicPorts, renderCertbotHook, renderDropIn, renderRelayEnv, SERVICE, TLS_GROUP } from './deploy-files.ts'
import { renderSystemdUnit } from './systemd-unit.ts'
import type { DeployConfig } from './deploy-config.ts'

/** A step of the deploy failed (a command, the relay not answering): the message says what to look at. */
export class DeployError extends GolemClayError { override name = 'DeployError'; override readonly code = 'DEPLOY_FAILED' }

export interface DeployInit extends DeployConfig {
  /** The checkout the service runs (absolute), after npm install and npm run build. */
  appDir: string
  print: (line: string) => void
  /** How long to wait for the started relay's /status. @default 60_000 */
  statusTimeout?: number
}

export interface DeployResult {
  /** The relay's addresses from its /status (with /p2p/<peer ID>), or the ones it will announce on a dry run. */
  multiaddrs: string[]
  url: string
}

type Command = { argv: string[], env?: Record<string, string> }

const show = (c: Command): string => [...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`), ...c.argv].map(a => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`).join(' ')

/**
 * Installs a public relay on this machine (see relay/deploy/deploy.ts). With
 * `dryRun`, commands are printed, not run, and files go under `root` (or
 * nowhere, when that is `/`); the machine is only read.
 */
export async function deployRelay (init: DeployInit): Promise<DeployResult> {
  const { print, dryRun } = init
  const writesFiles = !dryRun || init.root !== '/'
  const problems = await checkHost(init)
  for (const problem of problems) {
    if (!dryRun) throw new DeployError(problem)
    print(`warning: ${problem}`)
  }

  const run = async (command: Command): Promise<void> => {
    if (dryRun) {
      print(`[dry run] ${show(command)}`)
      return
    }
    print(`+ ${show(command)}`)
    await exec(command)
  }
  const put = async (path: string, content: string, mode: number): Promise<void> => {
    const target = join(init.root, path)
    if (!writesFiles) {
      print(`[dry run] write ${path} (${mode.toString(8)})`)
      return
    }
    await mkdir(dirname(target), { recursive: true })
    const old = await readFile(target, 'utf8').catch(() => undefined)
    if (old != null && old !== content && path === DEPLOY_PATHS.env) await writeFile(`${target}.bak`, old, { mode })
    // renamed into place: systemd or certbot never read half a file
    await writeFile(`${target}.new`, content, { mode })
    await chmod(`${target}.new`, mode)
    await rename(`${target}.new`, target)
    print(`wrote ${target}`)
  }

  await put(DEPLOY_PATHS.unit, await renderSystemdUnit({ appDir: init.appDir }), 0o644)
  await put(DEPLOY_PATHS.dropIn, renderDropIn(init), 0o644)
  await put(DEPLOY_PATHS.env, renderRelayEnv(init), 0o640)
  await put(DEPLOY_PATHS.hook, renderCertbotHook(init), 0o755)

  if (!await groupExists(TLS_GROUP)) await run({ argv: ['groupadd', '--system', TLS_GROUP] })
  if (!await onPath('certbot')) {
    await run({ argv: ['apt-get', 'update'], env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await run({ argv: ['apt-get', 'install', '-y', 'certbot'], env: { DEBIAN_FRONTEND: 'noninteractive' } })
  }
  // the hook reloads the service: systemd must know the unit before certbot runs it
  await run({ argv: ['systemctl', 'daemon-reload'] })
  await run({
    argv: [
      'certbot', 'certonly', '--non-interactive', '--agree-tos', '--keep-until-expiring',
      ...(init.webroot != null ? ['--webroot', '-w', init.webroot] : ['--standalone', '--preferred-challenges', 'http']),
      '-d', init.domain,
      ...(init.email != null ? ['--email', init.email] : ['--register-unsafely-without-email']),
      '--deploy-hook', DEPLOY_PATHS.hook
    ]
  })
  // certbot runs the hook only for a new certificate; an existing one is copied here
  await run({ argv: [DEPLOY_PATHS.hook], env: { RENEWED_LINEAGE: letsencryptLive(init.domain) } })
  const wasActive = !dryRun && await isActive(SERVICE)
  await run({ argv: ['systemctl', 'enable', '--now', SERVICE] })
  // a relay already running picks up the new unit and settings only by restarting
  if (wasActive) await run({ argv: ['systemctl', 'restart', SERVICE] })

  const statusUrl = `https://127.0.0.1:${init.httpPort}/status`
  let multiaddrs = announceAddrs(init)
  if (dryRun) {
    print(`[dry run] read ${statusUrl} (the relay's addresses, with its peer ID)`)
  } else {
    multiaddrs = (await waitForStatus(statusUrl, init.domain, init.statusTimeout ?? 60_000)).multiaddrs
  }
  const url = pageUrl(init)
  print('')
  print(dryRun ? `Dry run done; the relay would be at ${url}` : `Golem Clay relay running at ${url}`)
  print(dryRun ? 'Its addresses (with /p2p/<peer ID> once it runs):' : 'Its addresses (other relays join with --seed <one of them>; tabs with ?relay=<the /tls/ws one>):')
  for (const addr of multiaddrs) print(`  ${addr}`)
  print('Open in the firewall (TCP):')
  for (const { port, why } of publicPorts(init)) print(`  ${String(port).padEnd(5)} ${why}`)
  print(`/metrics stays private on ${METRICS_LISTEN}; check with: curl -s https://${init.domain}${init.httpPort === 443 ? '' : `:${init.httpPort}`}/healthz`)
  print(`Settings: ${DEPLOY_PATHS.env}; logs: journalctl -u golem-clay-relay -f`)
  return { multiaddrs, url }
}

/** What would stop the service from running this checkout: not root, not built, not readable by the dynamic user. */
async function checkHost (init: DeployInit): Promise<string[]> {
  const problems: string[] = []
  if (!init.dryRun && process.getuid?.() !== 0) problems.push('Installing a service needs root: sudo npm run deploy -- …')
  for (const [file, fix] of [['node_modules/node/bin/node', 'npm install'], ['dist/web/index.html', 'npm run build']] as const) {
    if (!await access(join(init.appDir, file), constants.R_OK).then(() => true, () => false)) problems.push(`${join(init.appDir, file)} is missing: run ${fix} in ${init.appDir} first`)
  }
  // the service's user is made up by systemd: it reads the checkout as "others" do
  for (let dir = init.appDir; ; dir = dirname(dir)) {
    const mode = (await stat(dir).catch(() => undefined))?.mode ?? 0
    const needs = dir === init.appDir ? 0o005 : 0o001
    if ((mode & needs) !== needs) {
      problems.push(`The service's user cannot read ${init.appDir} (${dir} is mode ${(mode & 0o777).toString(8)}): clone the repository into a folder every user can read, e.g. /opt/golem-clay`)
      break
    }
    if (dir === dirname(dir)) break
  }
  return problems
}

async function exec ({ argv, env }: Command): Promise<void> {
  const [file, ...args] = argv
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(file ?? '', args, { stdio: 'inherit', env: { ...process.env, ...env } })
    child.on('error', reject)
    child.on('exit', resolve)
  }).catch((err: Error) => { throw new DeployError(`${file ?? ''} could not start: ${err.message}`) })
  if (code !== 0) throw new DeployError(`${show({ argv })} failed (exit code ${String(code)}); fix what it said and run npm run deploy again`)
}

async function groupExists (name: string): Promise<boolean> {
  const groups = await readFile('/etc/group', 'utf8').catch(() => '')
  return groups.split('\n').some(line => line.startsWith(`${name}:`))
}

async function onPath (command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(d => d !== '')) {
    if (await access(join(dir, command), constants.X_OK).then(() => true, () => false)) return true
  }
  return false
}

async function isActive (service: string): Promise<boolean> {
  return await new Promise(resolve => {
    spawn('systemctl', ['is-active', '--quiet', service], { stdio: 'ignore' }).on('exit', code => { resolve(code === 0) }).on('error', () => { resolve(false) })
  })
}

/** Polls the started relay's /status until it answers (it creates its identity and opens its stores first). */
async function waitForStatus (url: string, domain: string, timeout: number): Promise<{ multiaddrs: string[] }> {
  const deadline = Date.now() + timeout
  let last = ''
  while (Date.now() < deadline) {
    try {
      const status = JSON.parse(await get(url, domain)) as { multiaddrs?: unknown }
      if (Array.isArray(status.multiaddrs)) return { multiaddrs: status.multiaddrs.map(String) }
      last = 'no multiaddrs in its answer'
    } catch (err: any) {
      last = err.message
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  throw new DeployError(`The relay did not answer ${url} within ${timeout / 1000} s (${last}); see journalctl -u golem-clay-relay`)
}

async function get (url: string, servername: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    // asked on loopback: the certificate names the domain, and this is our own relay
    const req = request(url, { servername, rejectUnauthorized: false, timeout: 5000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${String(res.statusCode)}`)) })
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    req.end()
  })
}
