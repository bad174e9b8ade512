import { readdir, readFile, writeFile, mkdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { PNG } from 'pngjs'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { mandelbrotJob, primesJob } from '../../tasks/demo-jobs.ts'
import { assertNoProblems, mandelbrotProblems, primesProblems } from '../../tasks/job-limits.ts'
import { MAX_K } from '../../shared/market/index.ts'
import { sha256Hex } from '../../shared/storage/index.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { RequestorTask } from '../../shared/market/index.ts'
import type { TaskSpec } from '../../shared/market/index.ts'
import type { Emit } from '../storage/peer-commands.ts'
import { UsageError } from '../../shared/errors.ts'

export const TASK_COMMANDS_HELP = `  task run mandelbrot [--size 512x512] [--tile 64] [--iter 256] [--k 1] [--out <file.png>]
  task run primes [--from 0] [--to 10000000] [--parts 20] [--k 1]
  task run <module.wasm> --inputs <dir> [--out <dir>] [--k 1]
                           submit a task to the network and wait for verified results
  tasks                    open tasks seen on the network
  provide on|off           offer this peer's cores to others (needs --provide at start)
  cores <n>                how many subtasks this peer runs at once`

/** The options each kind of task takes. */
const OPTIONS = {
  mandelbrot: ['size', 'tile', 'iter', 'k', 'out'],
  primes: ['from', 'to', 'parts', 'k'],
  module: ['inputs', 'out', 'k']
}

// the shared limits name fields as the page shows them; here they are flags
const MANDELBROT_LABELS = { width: '--size width', height: '--size height', tile: '--tile', maxIter: '--iter' }
const PRIMES_LABELS = { from: '--from', to: '--to', parts: '--parts' }

/** `--name value` pairs, only of the names `allowed`: a typo is refused, not ignored. */
function flags (args: string[], allowed: string[], what: string): Map<string, string> {
  const values = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const name = arg.slice(2)
    if (!arg.startsWith('--')) throw new UsageError(`unexpected "${arg}" in task run ${what} (options take the form --name value)`)
    if (!allowed.includes(name)) throw new UsageError(`task run ${what} has no option ${arg} (it takes ${allowed.map(n => `--${n}`).join(', ')})`)
    const value = args[++i]
    if (value == null) throw new UsageError(`${arg} needs a value`)
    values.set(name, value)
  }
  return values
}

function whole (values: Map<string, string>, name: string, fallback: number): number {
  const text = values.get(name)
  if (text == null) return fallback
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be a whole number, not "${text}"`)
  return n
}

function redundancy (values: Map<string, string>): number {
  const k = whole(values, 'k', 1)
  if (k < 1 || k > MAX_K) throw new UsageError(`--k must be from 1 to ${MAX_K}, not ${k}`)
  return k
}

/** `--size 512x384`, or `--size 512` for a square. */
function imageSize (text = '512x512'): { width: number, height: number } {
  const m = /^(\d+)(?:[x×](\d+))?$/i.exec(text)
  if (m == null) throw new UsageError(`--size takes WIDTHxHEIGHT in pixels, e.g. 512x512 (one number for a square), not "${text}"`)
  const width = Number(m[1])
  return { width, height: m[2] != null ? Number(m[2]) : width }
}

/** Refuses an --out whose folder is missing before any work is done, not after. */
async function checkOutFolder (out: string | undefined): Promise<void> {
  if (out == null) return
  const folder = dirname(resolve(out))
  const info = await stat(folder).catch(() => undefined)
  if (info?.isDirectory() !== true) throw new UsageError(`--out ${out}: the folder ${folder} does not exist`)
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Reports a running task's progress, at most once a second in text mode, and never the same twice. */
function follow (task: RequestorTask, emit: Emit, json: boolean): void {
  let last = 0
  let lastSeen = ''
  task.addEventListener('progress', (evt) => {
    const p = evt.detail
    const seen = `${p.done} ${p.running} ${p.providers}`
    if (seen === lastSeen) return
    if (!json && Date.now() - last < 1000 && p.done < p.total) return
    last = Date.now()
    lastSeen = seen
    emit('task-progress', { ...p }, `task ${p.task}: ${p.done}/${p.total} subtasks done, ${p.running} running on ${plural(p.providers, 'provider')}`)
  })
  task.addEventListener('rejected', (evt) => { emit('task-rejected', { ...evt.detail }, `subtask ${evt.detail.subtask}: result of ${evt.detail.provider} rejected (${evt.detail.reason})`) })
  task.addEventListener('reassigned', (evt) => { emit('task-reassigned', { ...evt.detail }, `subtask ${evt.detail.subtask}: ${evt.detail.provider} ${evt.detail.reason}; reassigning`) })
}

/** The Node peer's market commands, for its console. */
export function taskCommands (node: NodePeer, emit: Emit, json = false): Record<string, (args: string[], options?: { signal?: AbortSignal }) => Promise<void>> {
  const market = node.services.market
  const submit = async (spec: TaskSpec, signal?: AbortSignal): Promise<RequestorTask> => {
    const task = await market.submit(spec, { signal })
    // a command that gives up takes its task off the network (the signed `closed`)
    if (signal?.aborted === true) task.cancel()
    signal?.addEventListener('abort', () => { task.cancel() }, { once: true })
    emit('task-submitted', { task: task.id, subtasks: spec.inputs.length, k: spec.k ?? 1 }, `task ${task.id} published: ${spec.inputs.length} subtasks, k = ${spec.k ?? 1}`)
    follow(task, emit, json)
    return task
  }
  return {
    task: async ([verb, what, ...args], { signal } = {}) => {
      if (verb !== 'run' || what == null) throw new UsageError('usage: task run <mandelbrot|primes|module.wasm> [options] (see help)')
      if (what === 'mandelbrot') {
        const values = flags(args, OPTIONS.mandelbrot, what)
        const k = redundancy(values)
        const request = { ...imageSize(values.get('size')), tile: whole(values, 'tile', 64), maxIter: whole(values, 'iter', 256) }
        // checked here, before a byte of the picture exists, in the words of the flags
        assertNoProblems(mandelbrotProblems(request, MANDELBROT_LABELS))
        const out = values.get('out')
        await checkOutFolder(out)
        const job = mandelbrotJob(request)
        const task = await submit({ name: `mandelbrot ${job.image.width}x${job.image.height}`, module: (await loadDemoTask('mandelbrot')).module, inputs: job.inputs, k }, signal)
        const results = await task.done
        const pixels = job.assemble(results.map(r => r.data))
        if (out != null) {
          const png = new PNG({ width: job.image.width, height: job.image.height })
          png.data = Buffer.from(pixels)
          await writeFile(out, PNG.sync.write(png))
        }
        const providers = [...new Set(results.map(r => r.provider))]
        emit('task-done', { task: task.id, sha256: await sha256Hex(pixels), providers, out }, `image done by ${plural(providers.length, 'provider')}${out != null ? `, written to ${out}` : ''}`)
      } else if (what === 'primes') {
        const values = flags(args, OPTIONS.primes, what)
        const k = redundancy(values)
        const request = { from: whole(values, 'from', 0), to: whole(values, 'to', 10_000_000), parts: whole(values, 'parts', 20) }
        assertNoProblems(primesProblems(request, PRIMES_LABELS))
        const job = primesJob(request)
        const task = await submit({ name: 'prime count', module: (await loadDemoTask('primes')).module, inputs: job.inputs, k }, signal)
        const answer = job.combine((await task.done).map(r => r.data))
        emit('task-done', { task: task.id, ...answer }, `${answer.count} primes; the largest is ${answer.largest}`)
      } else {
        const module = await stat(what).catch(() => undefined)
        if (module?.isFile() !== true) throw new UsageError(`no task "${what}": run mandelbrot, primes or a .wasm module file`)
        const values = flags(args, OPTIONS.module, what)
        const k = redundancy(values)
        const dir = values.get('inputs')
        if (dir == null) throw new UsageError('a custom module needs --inputs <dir> (one file per subtask)')
        const names = (await readdir(dir)).sort()
        if (names.length === 0) throw new UsageError(`--inputs ${dir} holds no files (one file per subtask)`)
        const inputs = await Promise.all(names.map(async n => new Uint8Array(await readFile(join(dir, n)))))
        const task = await submit({ name: what, module: new Uint8Array(await readFile(what)), inputs, k }, signal)
        const results = await task.done
        const out = values.get('out') ?? `${what}.out`
        await mkdir(out, { recursive: true })
        await Promise.all(results.map(async (r, i) => { await writeFile(join(out, `${names[i] ?? i}.out`), r.data) }))
        emit('task-done', { task: task.id, out, subtasks: results.length }, `${results.length} results written to ${out}`)
      }
    },
    tasks: async () => {
      const list = market.openTasks().map(h => ({ id: h.id, name: h.name, requestor: h.requestor, subtasks: h.subtasks, deadline: h.deadline }))
      emit('task-list', { tasks: list }, list.length === 0 ? 'no open tasks seen' : list.map(t => `${t.id}  ${t.name}  ${t.subtasks} subtasks  by ${t.requestor}`).join('\n'))
    },
    provide: async ([state]) => {
      const provider = market.provider
      if (provider == null) throw new UsageError('start the peer with --provide to offer compute')
      if (state !== 'on' && state !== 'off') throw new UsageError('usage: provide on|off')
      provider.enabled = state === 'on'
      emit('provide', { enabled: provider.enabled }, `providing ${provider.enabled ? 'on' : 'off'}`)
    },
    cores: async ([n]) => {
      const runner = market.runner
      if (runner == null) throw new UsageError('start the peer with --provide to offer compute')
      const cores = Number(n)
      if (!Number.isInteger(cores) || cores < 1) throw new UsageError('usage: cores <n> (at least 1)')
      runner.setCores(cores)
      emit('cores', { cores: runner.cores }, `running up to ${runner.cores} subtasks at once`)
    }
  }
}
