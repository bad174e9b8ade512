import { readdir, readFile, writeFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { mandelbrotJob, primesJob } from '../../tasks/demo-jobs.ts'
import { assertNoProblems, mandelbrotProblems, primesProblems } from '../../tasks/job-limits.ts'
import { sha256Hex } from '../../shared/storage/index.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { RequestorTask, SubtaskResult, TaskSpec } from '../../shared/market/index.ts'
import type { Emit } from '../storage/peer-commands.ts'
import { UsageError } from '../../shared/errors.ts'
import { explainPaymentError } from './chain-access.ts'
import { followPayments, pricedSpec, reportCost, reportPaid, taskPricing } from './task-cost.ts'
import { checkOutFolder, flags, imageSize, MANDELBROT_LABELS, OPTIONS, plural, PRIMES_LABELS, redundancy, whole } from './task-options.ts'
import type { TaskPricing } from './task-cost.ts'

export const TASK_COMMANDS_HELP = `  task run mandelbrot [--size 512x512] [--tile 64] [--iter 256] [--k 1] [--out <file.png>] [--price 0.001]
  task run primes [--from 0] [--to 10000000] [--parts 20] [--k 1] [--price 0.001]
  task run <module.wasm> --inputs <dir> [--out <dir>] [--k 1] [--price 0.001]
                           submit a task to the network and wait for verified results;
                           --price: tokens per accepted result (unpaid when the relays run no chain)
  tasks                    open tasks seen on the network
  provide on|off           offer this peer's cores to others (needs --provide at start)
  cores <n>                how many subtasks this peer runs at once`

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
  /** Shows the cost, submits, follows; `finish` reports what it paid once its results are in hand. */
  const submit = async (spec: TaskSpec, price: string | undefined, signal?: AbortSignal): Promise<{ task: RequestorTask, finish: (results: SubtaskResult[]) => void }> => {
    const pricing: TaskPricing = await taskPricing(node, price, signal)
    const priced = pricedSpec(spec, pricing)
    reportCost(priced, pricing, emit)
    let task: RequestorTask
    try {
      task = await market.submit(priced, { signal })
    } catch (err) {
      throw await explainPaymentError(err, node, pricing.paid ? pricing.access : undefined)
    }
    // a command that gives up takes its task off the network (the signed `closed`)
    if (signal?.aborted === true) task.cancel()
    signal?.addEventListener('abort', () => { task.cancel() }, { once: true })
    emit('task-submitted', { task: task.id, subtasks: spec.inputs.length, k: spec.k ?? 1 }, `task ${task.id} published: ${spec.inputs.length} subtasks, k = ${spec.k ?? 1}`)
    follow(task, emit, json)
    const payments = followPayments(task)
    return { task, finish: (results) => { reportPaid(task, payments.accepted(results), pricing, emit) } }
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
        const { task, finish } = await submit({ name: `mandelbrot ${job.image.width}x${job.image.height}`, module: (await loadDemoTask('mandelbrot')).module, inputs: job.inputs, k }, values.get('price'), signal)
        const results = await task.done
        const pixels = job.assemble(results.map(r => r.data))
        if (out != null) {
          const png = new PNG({ width: job.image.width, height: job.image.height })
          png.data = Buffer.from(pixels)
          await writeFile(out, PNG.sync.write(png))
        }
        const providers = [...new Set(results.map(r => r.provider))]
        emit('task-done', { task: task.id, sha256: await sha256Hex(pixels), providers, out }, `image done by ${plural(providers.length, 'provider')}${out != null ? `, written to ${out}` : ''}`)
        finish(results)
      } else if (what === 'primes') {
        const values = flags(args, OPTIONS.primes, what)
        const k = redundancy(values)
        const request = { from: whole(values, 'from', 0), to: whole(values, 'to', 10_000_000), parts: whole(values, 'parts', 20) }
        assertNoProblems(primesProblems(request, PRIMES_LABELS))
        const job = primesJob(request)
        const { task, finish } = await submit({ name: 'prime count', module: (await loadDemoTask('primes')).module, inputs: job.inputs, k }, values.get('price'), signal)
        const results = await task.done
        const answer = job.combine(results.map(r => r.data))
        emit('task-done', { task: task.id, ...answer }, `${answer.count} primes; the largest is ${answer.largest}`)
        finish(results)
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
        const { task, finish } = await submit({ name: what, module: new Uint8Array(await readFile(what)), inputs, k }, values.get('price'), signal)
        const results = await task.done
        const out = values.get('out') ?? `${what}.out`
        await mkdir(out, { recursive: true })
        await Promise.all(results.map(async (r, i) => { await writeFile(join(out, `${names[i] ?? i}.out`), r.data) }))
        emit('task-done', { task: task.id, out, subtasks: results.length }, `${results.length} results written to ${out}`)
        finish(results)
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
