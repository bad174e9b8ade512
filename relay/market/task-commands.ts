import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { mandelbrotJob, primesJob } from '../../tasks/demo-jobs.ts'
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

function flags (args: string[]): { rest: string[], values: Map<string, string> } {
  const rest: string[] = []
  const values = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a.startsWith('--') && args[i + 1] != null) values.set(a.slice(2), args[++i] as string)
    else rest.push(a)
  }
  return { rest, values }
}

function int (values: Map<string, string>, name: string, fallback: number): number {
  const text = values.get(name)
  if (text == null) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${text}"`)
  return n
}

/** Reports a running task's progress, at most once a second in text mode. */
function follow (task: RequestorTask, emit: Emit, json: boolean): void {
  let last = 0
  task.addEventListener('progress', (evt) => {
    const p = evt.detail
    if (!json && Date.now() - last < 1000 && p.done < p.total) return
    last = Date.now()
    emit('task-progress', { ...p }, `task ${p.task}: ${p.done}/${p.total} subtasks done, ${p.running} running on ${p.providers} providers`)
  })
  task.addEventListener('rejected', (evt) => { emit('task-rejected', { ...evt.detail }, `subtask ${evt.detail.subtask}: result of ${evt.detail.provider} rejected (${evt.detail.reason})`) })
  task.addEventListener('reassigned', (evt) => { emit('task-reassigned', { ...evt.detail }, `subtask ${evt.detail.subtask}: ${evt.detail.provider} ${evt.detail.reason}; reassigning`) })
}

/** The Node peer's market commands, for its console. */
export function taskCommands (node: NodePeer, emit: Emit, json = false): Record<string, (args: string[]) => Promise<void>> {
  const market = node.services.market
  const submit = async (spec: TaskSpec): Promise<RequestorTask> => {
    const task = await market.submit(spec)
    emit('task-submitted', { task: task.id, subtasks: spec.inputs.length, k: spec.k ?? 1 }, `task ${task.id} published: ${spec.inputs.length} subtasks, k = ${spec.k ?? 1}`)
    follow(task, emit, json)
    return task
  }
  return {
    task: async ([verb, what, ...args]) => {
      if (verb !== 'run' || what == null) throw new UsageError('usage: task run <mandelbrot|primes|module.wasm> [options] (see help)')
      const { values } = flags(args)
      const k = int(values, 'k', 1)
      if (what === 'mandelbrot') {
        const [w, h] = (values.get('size') ?? '512x512').split('x').map(Number)
        const job = mandelbrotJob({ width: w ?? 512, height: h ?? w ?? 512, tile: int(values, 'tile', 64), maxIter: int(values, 'iter', 256) })
        const task = await submit({ name: `mandelbrot ${job.image.width}x${job.image.height}`, module: (await loadDemoTask('mandelbrot')).module, inputs: job.inputs, k })
        const results = await task.done
        const pixels = job.assemble(results.map(r => r.data))
        const out = values.get('out')
        if (out != null) {
          const png = new PNG({ width: job.image.width, height: job.image.height })
          png.data = Buffer.from(pixels)
          await writeFile(out, PNG.sync.write(png))
        }
        const providers = [...new Set(results.map(r => r.provider))]
        emit('task-done', { task: task.id, sha256: await sha256Hex(pixels), providers, out }, `image done by ${providers.length} providers${out != null ? `, written to ${out}` : ''}`)
      } else if (what === 'primes') {
        const job = primesJob({ from: int(values, 'from', 0), to: int(values, 'to', 10_000_000), parts: int(values, 'parts', 20) })
        const task = await submit({ name: 'prime count', module: (await loadDemoTask('primes')).module, inputs: job.inputs, k })
        const answer = job.combine((await task.done).map(r => r.data))
        emit('task-done', { task: task.id, ...answer }, `${answer.count} primes; the largest is ${answer.largest}`)
      } else {
        const dir = values.get('inputs')
        if (dir == null) throw new UsageError('a custom module needs --inputs <dir> (one file per subtask)')
        const names = (await readdir(dir)).sort()
        const inputs = await Promise.all(names.map(async n => new Uint8Array(await readFile(join(dir, n)))))
        const task = await submit({ name: what, module: new Uint8Array(await readFile(what)), inputs, k })
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
