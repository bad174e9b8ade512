import { resolve } from 'node:path'
import { formatHelp, parseOptions } from '../config/options.ts'
import type { OptionSpec } from '../config/options.ts'
import { STORAGE_COMMANDS_HELP } from '../storage/peer-commands.ts'
import { TASK_COMMANDS_HELP } from '../market/task-commands.ts'

export interface PeerConfig {
  relays: string[]
  dataDir?: string
  json: boolean
  /** Offer this peer's cores to the network. */
  provide: boolean
  /** Subtasks run at once when providing. */
  cores?: number
  /** Commands to run once joined; the peer quits after the last one. */
  exec: string[]
}

export const PEER_OPTIONS: OptionSpec[] = [
  { name: 'relay', type: 'list', env: 'GOLEM_CLAY_RELAYS', default: ['http://localhost:8080'], placeholder: '<url|multiaddr>', description: 'Relay to join: its http:// URL or a multiaddr with /p2p/ (repeatable)' },
  { name: 'data', type: 'string', env: 'GOLEM_CLAY_PEER_DATA', placeholder: '<dir>', description: 'Keep the peer key here so the peer ID survives restarts (default: a new ID each run)' },
  { name: 'provide', type: 'boolean', env: 'GOLEM_CLAY_PROVIDE', default: false, description: 'Run subtasks for others in sandboxed worker threads' },
  { name: 'cores', type: 'integer', env: 'GOLEM_CLAY_CORES', placeholder: '<n>', description: 'Subtasks run at once when providing (default: cores - 1, at least 1)' },
  { name: 'exec', type: 'list', env: 'GOLEM_CLAY_EXEC', placeholder: '<command>', description: 'Run a console command once joined, e.g. "task run mandelbrot --out m.png" (repeatable); quit after the last' },
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
  quit                     leave the network`,
  PEER_OPTIONS
)

export function parsePeerConfig (argv: string[], env: Record<string, string | undefined> = process.env): { config: PeerConfig, help: boolean } {
  const { values, help } = parseOptions(PEER_OPTIONS, argv, env)
  return {
    help,
    config: {
      relays: values.relay as string[],
      dataDir: values.data != null ? resolve(values.data as string) : undefined,
      json: values.json === true,
      provide: values.provide === true,
      cores: values.cores as number | undefined,
      exec: (values.exec as string[] | undefined) ?? []
    }
  }
}
