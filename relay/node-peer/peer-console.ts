import { createInterface } from 'node:readline'
import { peerIdFromString } from '@libp2p/peer-id'
import { connectionKind } from '../../shared/connection/index.ts'
import { raceSignal } from '../../shared/util/index.ts'
import { storageCommands } from '../storage/peer-commands.ts'
import { taskCommands } from '../market/task-commands.ts'
import { walletCommands } from '../market/wallet-commands.ts'
import { formatTimeout } from './peer-config.ts'
import { CommandTimeoutError, describeCommandError } from './peer-errors.ts'
import type { NodePeer } from './create-node-peer.ts'
import { UsageError } from '../../shared/errors.ts'

export interface PeerConsoleInit {
  node: NodePeer
  json: boolean
  input: NodeJS.ReadableStream
  output: (line: string) => void
  onQuit: () => void
  /** Quit when input ends (an interactive terminal's Ctrl-D). */
  quitOnEnd: boolean
}

export interface RunOptions {
  /** Fail with CommandTimeoutError after this many ms (the command is aborted). */
  timeout?: number
}

/** One console command; `signal` aborts it (--timeout in scripted runs). */
export type PeerCommand = (args: string[], options: { signal?: AbortSignal }) => Promise<void>

export interface PeerConsole {
  /** Runs one command line; a failure is reported and rethrown. */
  run: (line: string, options?: RunOptions) => Promise<void>
}

/**
 * The peer's command line: reads commands from `input` and reports events,
 * as text for people or as JSON lines for scripts and tests.
 */
export function startPeerConsole (init: PeerConsoleInit): PeerConsole {
  const { node, json, output } = init
  const emit = (event: string, data: Record<string, unknown>, text: string): void => {
    output(json ? JSON.stringify({ event, ...data }) : text)
  }

  node.services.messaging.addEventListener('message', (evt) => {
    const m = evt.detail
    emit('message', { from: m.from, id: m.id, text: m.text, kind: m.kind }, `message from ${m.from} (${m.kind}): ${m.text}`)
  })
  // the directory refreshes often with nothing new: report only changes
  let known = new Map<string, string>()
  node.services.directory.addEventListener('directory:update', (evt) => {
    const now = new Map(evt.detail.map(p => [p.id.toString(), p.role]))
    const joined = [...now.keys()].filter(id => !known.has(id)).length
    const left = [...known.keys()].filter(id => !now.has(id)).length
    const changed = joined > 0 || left > 0 || [...now].some(([id, role]) => known.get(id) !== role)
    known = now
    if (!changed) return
    const delta = [joined > 0 ? `${joined} new` : '', left > 0 ? `${left} gone` : ''].filter(d => d !== '').join(', ')
    emit('peers', { peers: [...now].map(([id, role]) => ({ id, role })) }, `peers known: ${now.size}${delta !== '' ? ` (${delta})` : ''}`)
  })
  node.services.sessions.addEventListener('session:challenge', (evt) => {
    emit('challenge', { ...evt.detail }, `proving ${evt.detail.difficulty} bits of work to ${evt.detail.peer}`)
  })
  node.services.sessions.addEventListener('session:open', (evt) => {
    const s = evt.detail
    emit('session', { peer: s.remotePeer, kind: s.kind, dialer: s.dialer, difficulty: s.difficulty }, `session with ${s.remotePeer} (${s.kind}) verified`)
  })
  node.services.sessions.addEventListener('session:refused', (evt) => {
    const r = evt.detail
    emit('refused', { ...r }, `session with ${r.peer} refused: ${r.message}`)
  })
  node.services.sessions.addEventListener('session:close', (evt) => {
    const c = evt.detail
    emit('session-closed', { ...c }, `session with ${c.peer} ended: ${c.reason}${c.remote ? ' (by peer)' : ''}${c.message != null ? ` — ${c.message}` : ''}`)
  })
  // each event lists every relay: report the ones whose state moved
  const relayStates = new Map<string, string>()
  node.services.relays.addEventListener('relay:status', (evt) => {
    for (const r of evt.detail) {
      const state = `${r.state} ${r.lastError ?? ''}`
      if (relayStates.get(r.addr) === state) continue
      relayStates.set(r.addr, state)
      emit('relay', { ...r }, `relay ${r.addr}: ${r.state}${r.lastError != null && r.state === 'waiting' ? ` (${r.lastError})` : ''}`)
    }
  })

  const provider = node.services.market.provider
  provider?.addEventListener('job', (evt) => {
    const j = evt.detail
    if (j.state === 'running' && j.fraction != null) return
    emit('job', { ...j }, `subtask ${j.subtask} of "${j.taskName}" for ${j.requestor}: ${j.state}${j.error != null ? ` (${j.error})` : ''}`)
  })
  provider?.addEventListener('verdict', (evt) => {
    const v = evt.detail
    emit('verdict', { ...v }, `subtask ${v.subtask} of task ${v.task}: ${v.accepted ? 'accepted' : `rejected (${v.reason})`}`)
  })

  const commands: Record<string, PeerCommand> = {
    peers: async () => {
      const list = node.services.directory.peers.map(p => {
        // two links of one kind (through two relays, or a dial race) are still one kind
        const kinds = [...new Set(node.getConnections(p.id).map(c => connectionKind(c)))]
        return { id: p.id.toString(), role: p.role, connections: kinds }
      })
      emit('peer-list', { peers: list }, list.length === 0 ? 'no peers yet' : list.map(p => `${p.id}  ${p.role}  ${p.connections.join(',') || 'not connected'}`).join('\n'))
    },
    send: async ([to, ...words], { signal }) => {
      const text = words.join(' ')
      if (to == null || text === '') throw new UsageError('usage: send <peer ID> <text>')
      let peer
      try {
        peer = peerIdFromString(to)
      } catch {
        throw new UsageError(`"${to}" is not a valid peer ID`)
      }
      const result = await node.services.messaging.send(peer, text, {
        signal,
        onQueued: () => { emit('queued', { to }, `${to} is not reachable now; the message waits for it${signal == null ? ' (up to 5 minutes)' : ''}`) }
      })
      emit('sent', { to, id: result.id, rtt: result.rtt, kind: result.kind }, `delivered to ${to} in ${result.rtt} ms (${result.kind})`)
    },
    ...storageCommands(node, emit, json),
    ...taskCommands(node, emit, json),
    ...walletCommands(node, emit),
    quit: async () => { init.onQuit() },
    help: async () => { emit('help', {}, 'commands: peers | send <peer ID> <text> | put <file> | get <address> <file> | grant <address> <peer ID|anyone> [<duration>] | stat <address> | rm <address> | task run <mandelbrot|primes|file.wasm> [--price <tokens>] | tasks | provide on|off | cores <n> | wallet | deposit <amount> | unlock | withdraw | cheques | cash | quit') }
  }

  /** Runs one command line; failures are reported, and rethrown for scripted runs. */
  const run = async (line: string, options: RunOptions = {}): Promise<void> => {
    const [name, ...args] = line.trim().split(/\s+/)
    if (name == null || name === '') return
    // a typed word selects code only through an own property ('constructor' is no command)
    const command = Object.hasOwn(commands, name) ? commands[name] : undefined
    if (command == null) {
      emit('error', { command: name, message: 'unknown command' }, `unknown command "${name}" (try: help)`)
      throw new UsageError(`unknown command "${name}"`)
    }
    const signal = options.timeout != null ? AbortSignal.timeout(options.timeout) : undefined
    try {
      // the race ends the wait even where a command can't stop its work at once
      await raceSignal(command(args, { signal }), signal)
    } catch (err: unknown) {
      const failure = signal?.aborted === true
        ? new CommandTimeoutError(`gave up after ${formatTimeout(options.timeout ?? 0)} (--timeout)`)
        : err
      const message = describeCommandError(failure)
      emit('error', { command: name, message, ...(failure instanceof CommandTimeoutError ? { code: failure.code } : {}) }, `${name} failed: ${message}`)
      throw failure
    }
  }
  const rl = createInterface({ input: init.input, terminal: false })
  rl.on('line', (line) => { run(line).catch(() => {}) })
  // a script that closes our stdin (or `< /dev/null`) must not end a long-running peer
  rl.on('close', () => { if (init.quitOnEnd) init.onQuit() })
  return { run }
}
