import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { RELAY_NODE_FLAGS } from '../bin/node-flags.ts'
import type { ChildProcess } from 'node:child_process'

// There is no Docker daemon in the tests: the image's runtime stage is rebuilt
// as a folder (its COPY lines, its node_modules pruned of dev dependencies as
// package-lock.json marks them), and its ENTRYPOINT, CMD, ENV and HEALTHCHECK
// run from there as a user who owns nothing but the data folder.

const run = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '')
const DOCKERFILE = join(ROOT, 'relay/deploy/Dockerfile')
const NOBODY = 65534
const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children) if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
})

interface Instruction { op: string, args: string }

/** Dockerfile instructions by stage: comment lines dropped, continuations joined (as Docker reads them). */
function parseDockerfile (text: string): Instruction[][] {
  const joined = text.split('\n').filter(line => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ')
  const stages: Instruction[][] = []
  for (const line of joined.split('\n').map(l => l.trim()).filter(l => l !== '')) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    if (op.toUpperCase() === 'FROM') stages.push([])
    stages[stages.length - 1]?.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') })
  }
  return stages
}

function one (stage: Instruction[], op: string): string {
  const found = stage.filter(i => i.op === op)
  if (found.length !== 1) throw new Error(`the runtime stage should have one ${op}, it has ${found.length}`)
  return found[0]?.args ?? ''
}

/** `KEY=value KEY2=value2` (ENV's form used in the Dockerfile). */
function envOf (stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of stage.filter(i => i.op === 'ENV')) {
    for (const pair of args.split(' ')) {
      const eq = pair.indexOf('=')
      expect(eq, `ENV ${pair} is KEY=value`).toBeGreaterThan(0)
      env[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  }
  return env
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/**
 * node_modules as `npm prune --omit=dev` leaves it: the lockfile's packages
 * not marked dev, hard-linked (no copy) so that nothing resolves back into
 * the checkout's full node_modules. Falls back to a link to the whole folder
 * when /tmp is another file system (then dev dependencies are not caught).
 */
async function prunedNodeModules (dest: string): Promise<'pruned' | 'full'> {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const kept = Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(path) && entry.dev !== true)
    .map(([path]) => path)
    .filter(path => existsSync(join(ROOT, path)))
  const byParent = new Map<string, string[]>()
  for (const path of kept) byParent.set(dirname(path), [...(byParent.get(dirname(path)) ?? []), join(ROOT, path)])
  try {
    for (const [parent, sources] of byParent) {
      await mkdir(join(dest, parent), { recursive: true })
      await run('cp', ['-al', ...sources, join(dest, parent)])
    }
  } catch (err: any) {
    if (!String(err.stderr).includes('cross-device')) throw err
    await rm(join(dest, 'node_modules'), { recursive: true, force: true })
    await symlink(join(ROOT, 'node_modules'), join(dest, 'node_modules'))
    return 'full'
  }
  // the programs of kept packages (node, tsx), as npm links them
  await mkdir(join(dest, 'node_modules/.bin'))
  for (const name of await readdir(join(ROOT, 'node_modules/.bin'))) {
    const target = await readlink(join(ROOT, 'node_modules/.bin', name)).catch(() => undefined)
    if (target != null && existsSync(join(dest, 'node_modules/.bin', target))) await symlink(target, join(dest, 'node_modules/.bin', name))
  }
  return 'pruned'
}

/** The runtime stage's /app, rebuilt from its COPY --from=build lines. */
async function stageApp (stage: Instruction[], workdir: string): Promise<{ app: string, nodeModules: 'pruned' | 'full' }> {
  const base = await mkdtemp(join(tmpdir(), 'gc-image-'))
  dirs.push(base)
  await chmod(base, 0o755)
  const app = join(base, 'app')
  await mkdir(app)
  let nodeModules: 'pruned' | 'full' = 'full'
  for (const { args } of stage.filter(i => i.op === 'COPY')) {
    const [, from = '', to = ''] = /^--from=build (\/app\/\S+) (\S+)$/.exec(args) ?? []
    expect(from, `COPY ${args} copies one path of the build stage's /app`).not.toBe('')
    const source = join(ROOT, relative('/app', from))
    const target = resolve(app, relative(workdir, resolve(workdir, to)))
    if (from === '/app/node_modules') {
      nodeModules = await prunedNodeModules(app)
      continue
    }
    expect(existsSync(source), `${relative(ROOT, source)} (after npm run build)`).toBe(true)
    await cp(source, target, { recursive: true })
  }
  return { app, nodeModules }
}

describe('relay/deploy/Dockerfile', async () => {
  const stages = parseDockerfile(await readFile(DOCKERFILE, 'utf8'))
  const build = stages[0] ?? []
  const runtime = stages[stages.length - 1] ?? []
  const workdir = one(runtime, 'WORKDIR')
  const entrypoint = JSON.parse(one(runtime, 'ENTRYPOINT')) as string[]
  const cmd = JSON.parse(one(runtime, 'CMD')) as string[]
  const healthcheck = JSON.parse(/CMD (\[.*\])$/.exec(one(runtime, 'HEALTHCHECK'))?.[1] ?? '[]') as string[]

  it('builds in one stage, runs from a slim one without dev dependencies, as a user of its own', async () => {
    expect(stages).toHaveLength(2)
    expect(build[0]?.args).toMatch(/^node:24-slim AS build$/)
    expect(runtime[0]?.args).toMatch(/^debian:\w+-slim$/)
    const steps = build.filter(i => i.op === 'RUN').map(i => i.args).join(' && ')
    for (const step of ['npm ci', 'npm run build', 'npm prune --omit=dev']) expect(steps).toContain(step)
    expect(one(runtime, 'USER')).not.toMatch(/^(root|0)(:|$)/)
    expect(JSON.parse(one(runtime, 'VOLUME'))).toEqual(['/data'])
    expect(envOf(runtime).GOLEM_CLAY_DATA).toBe('/data')
    // /metrics (9464) stays private
    expect(one(runtime, 'EXPOSE').split(' ').sort()).toEqual(['8080', '9090', '9091', '9443'])
    expect(one(runtime, 'STOPSIGNAL')).toBe('SIGINT')
    const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n')
    for (const path of ['.git', 'node_modules', 'dist', 'data']) expect(ignored).toContain(path)
  })

  it('starts the relay exactly as npm run relay does, and checks its health with a script it ships', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(entrypoint.join(' ')).toBe(scripts.relay)
    for (const flag of RELAY_NODE_FLAGS) expect(entrypoint).toContain(flag)
    expect(healthcheck[0]).toBe('node')
    expect(existsSync(join(ROOT, healthcheck[1] ?? ''))).toBe(true)
  })

  it('its ENTRYPOINT and CMD serve /healthz as a non-root user with a fresh data folder; its HEALTHCHECK passes, then fails once the relay is gone', async () => {
    const asRoot = process.getuid?.() === 0
    if (asRoot && !existsSync('/usr/bin/setpriv')) {
      console.warn('skipped: running as root and setpriv (util-linux) is missing, so the relay cannot run as another user')
      return
    }
    const { app, nodeModules } = await stageApp(runtime, workdir)
    if (nodeModules === 'full') console.warn('note: /tmp is not on the checkout\'s file system; node_modules is not pruned of dev dependencies here')
    const data = await mkdtemp(join(tmpdir(), 'gc-image-data-'))
    dirs.push(data)
    if (asRoot) await chown(data, NOBODY, NOBODY)
    const image = envOf(runtime)
    const ports = { http: await freePort(), ws: await freePort(), tcp: await freePort() }
    const env: Record<string, string> = {
      ...image,
      PATH: (image.PATH ?? '').replaceAll(workdir, app).replace('$PATH', '/usr/local/bin:/usr/bin:/bin'),
      HOME: data,
      GOLEM_CLAY_DATA: data,
      // the image's own ports may be taken on this machine
      GOLEM_CLAY_HTTP_PORT: String(ports.http),
      GOLEM_CLAY_WS_PORT: String(ports.ws),
      GOLEM_CLAY_TCP_PORT: String(ports.tcp),
      GOLEM_CLAY_METRICS_LISTEN: '127.0.0.1:0'
    }
    const asImageUser = (argv: string[]): [string, string[]] => asRoot
      ? ['setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', '--', ...argv]]
      : [argv[0] ?? '', argv.slice(1)]
    const healthy = async (): Promise<{ code: number, output: string }> => {
      const [file, args] = asImageUser(healthcheck)
      try {
        const { stdout } = await run(file, args, { cwd: app, env, timeout: 20_000 })
        return { code: 0, output: stdout }
      } catch (err: any) {
        return { code: err.code ?? 1, output: `${String(err.stdout)}${String(err.stderr)}` }
      }
    }

    const [file, args] = asImageUser([...entrypoint, ...cmd])
    const relay = spawn(file, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(relay)
    let output = ''
    relay.stdout.on('data', (d) => { output += String(d) })
    relay.stderr.on('data', (d) => { output += String(d) })
    const exited = new Promise<number | null>(resolve => { relay.on('exit', resolve) })
    const ready = await Promise.race([
      new Promise<boolean>(resolve => { relay.stdout.on('data', () => { if (output.includes('relay ready at')) resolve(true) }) }),
      exited.then(() => false),
      new Promise<boolean>(resolve => setTimeout(() => { resolve(false) }, 90_000))
    ])
    expect(ready, output).toBe(true)

    const res = await fetch(`http://127.0.0.1:${ports.http}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
    // the page came along (dist/web)
    const page = await fetch(`http://127.0.0.1:${ports.http}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<html')
    // the identity went into the data folder, made by the image's user
    const key = await stat(join(data, 'peer-key'))
    if (asRoot) expect(key.uid).toBe(NOBODY)
    expect(await healthy()).toEqual({ code: 0, output: `http://127.0.0.1:${ports.http}/healthz: healthy\n` })

    relay.kill('SIGINT')
    expect(await exited, output).toBe(0)
    const gone = await healthy()
    expect(gone.code).not.toBe(0)
    expect(gone.output).toContain('ECONNREFUSED')
  }, 150_000)
})
