import { resolve } from 'node:path'
import { InvalidConfigError } from '../../shared/errors.ts'
import { formatHelp, parseOptions } from '../config/options.ts'
import type { OptionSpec } from '../config/options.ts'
import { STORAGE_COMMANDS_HELP } from '../storage/peer-commands.ts'
import { TASK_COMMANDS_HELP } from '../market/task-commands.ts'
import { WALLET_COMMANDS_HELP } from '../market/wallet-commands.ts'

export interface PeerConfig {
  relays: string[]
  dataDir?: string
  /** A payment key file brought along; else `<dataDir>/payment-key`, or a key for this run only. */
  paymentKeyFile?: string
  /** fsync the payment ledgers before each save counts (default: handed to the OS at once, synced within 100 ms). */
  strictLedgers: boolean
  json: boolean
  /** Offer this peer's cores to the network. */
  provide: boolean
  /** Subtasks run at once when providing. */
  cores?: number
  /** Commands to run once joined; the peer quits after the last one. */
  exec: string[]
  /** Bound on joining and on each --exec command, in ms; undefined waits forever. */
  timeout?: number
}

/** What --timeout is when not given: long enough for a demo task on a few providers. */
export const DEFAULT_PEER_TIMEOUT = '5m'

export const PEER_OPTIONS: OptionSpec[] = [
  { name: 'relay', type: 'list', env: 'GOLEM_CLAY_RELAYS', default: ['http://localhost:8080'], placeholder: '<url|multiaddr>', description: 'Relay to join: its http:// URL or a multiaddr with /p2p/ (repeatable)' },
  { name: 'data', type: 'string', env: 'GOLEM_CLAY_PEER_DATA', placeholder: '<dir>', description: 'Keep the peer key and payment key here so the peer ID and payment account survive restarts (default: new ones each run)' },
  { name: 'payment-key-file', type: 'string', env: 'GOLEM_CLAY_PEER_PAYMENT_KEY_FILE', placeholder: '<file>', description: 'The payment account\'s key (64 hex digits, mode 600) to use instead of <data>/payment-key' },
  { name: 'strict-ledgers', type: 'boolean', env: 'GOLEM_CLAY_STRICT_LEDGERS', default: false, description: 'Sync the payment ledgers (<data>/ledgers) to disk before each cheque goes out (default: written at once, synced within 100 ms, as a tab\'s IndexedDB; an OS crash may lose that window)' },
  { name: 'provide', type: 'boolean', env: 'GOLEM_CLAY_PROVIDE', default: false, description: 'Run subtasks for others in sandboxed worker threads' },
  { name: 'cores', type: 'integer', env: 'GOLEM_CLAY_CORES', placeholder: '<n>', description: 'Subtasks run at once when providing (default: cores - 1, at least 1)' },
  { name: 'exec', type: 'list', env: 'GOLEM_CLAY_EXEC', placeholder: '<command>', description: 'Run a console command once joined, e.g. "task run mandelbrot --out m.png" (repeatable); quit after the last' },
  { name: 'timeout', type: 'string', env: 'GOLEM_CLAY_TIMEOUT', default: DEFAULT_PEER_TIMEOUT, placeholder: '<duration>', description: 'Give up joining, and each --exec command, after this long (e.g. 30s, 5m; 0 waits forever)' },
  { name: 'json', type: 'boolean', env: 'GOLEM_CLAY_JSON', default: false, description: 'Print one JSON object per line (for scripts)' }
]

export const PEER_HELP = formatHelp(
  'golem-clay-peer [options]',
  `Golem Clay headless Node peer: joins the network through a relay over TCP
and talks to tabs through it. Type commands on standard input:
  peers                    list the peers the relays know
  send <peer ID> <text>    send a direct message
${STORAGE_COMMANDS_HELP}
${TASK_COMMANDS_HELP}
${WALLET_COMMANDS_HELP}
  quit                     leave the network

With --exec the commands run in order once the peer is reachable, and the
peer quits after the last, or at the first that fails. Exit codes: 0 done,
1 a command failed or timed out or the network could not be joined,
2 a bad flag, environment variable or config file.`,
  PEER_OPTIONS
)

export function parsePeerConfig (argv: string[], env: Record<string, string | undefined> = process.env): { config: PeerConfig, help: boolean } {
  const { values, help } = parseOptions(PEER_OPTIONS, argv, env)
  return {
    help,
    config: {
      relays: values.relay as string[],
      dataDir: values.data != null ? resolve(values.data as string) : undefined,
      paymentKeyFile: typeof values['payment-key-file'] === 'string' && values['payment-key-file'].trim() !== '' ? resolve(values['payment-key-file']) : undefined,
      strictLedgers: values['strict-ledgers'] === true,
      json: values.json === true,
      provide: values.provide === true,
      cores: values.cores as number | undefined,
      exec: (values.exec as string[] | undefined) ?? [],
      timeout: parseTimeout(values.timeout as string)
    }
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000 }

/** A duration such as 30s, 1.5m or 250ms (bare numbers are seconds) in ms; 0 means no bound. */
export function parseTimeout (text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim())
  if (m == null) throw new InvalidConfigError(`--timeout (GOLEM_CLAY_TIMEOUT) must be a duration like 30s, 5m or 1h (0 waits forever), got "${text}"`)
  const ms = Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1000))
  return ms === 0 ? undefined : ms
}

/** A bound for messages: "250 ms", "3 s", "1.5 min", "2 h". */
export function formatTimeout (ms: number): string {
  const round = (n: number): string => String(Math.round(n * 10) / 10)
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${round(ms / 1000)} s`
  if (ms < 3_600_000) return `${round(ms / 60_000)} min`
  return `${round(ms / 3_600_000)} h`
}
