import { resolve } from 'node:path'
import { formatHelp, parseOptions } from '../config/options.ts'
import type { OptionSpec } from '../config/options.ts'
import { STORAGE_COMMANDS_HELP } from '../storage/peer-commands.ts'

export interface PeerConfig {
  relays: string[]
  dataDir?: string
  json: boolean
}

export const PEER_OPTIONS: OptionSpec[] = [
  { name: 'relay', type: 'list', env: 'GOLEM_CLAY_RELAYS', default: ['http://localhost:8080'], placeholder: '<url|multiaddr>', description: 'Relay to join: its http:// URL or a multiaddr with /p2p/ (repeatable)' },
  { name: 'data', type: 'string', env: 'GOLEM_CLAY_PEER_DATA', placeholder: '<dir>', description: 'Keep the peer key here so the peer ID survives restarts (default: a new ID each run)' },
  { name: 'json', type: 'boolean', env: 'GOLEM_CLAY_JSON', default: false, description: 'Print one JSON object per line (for scripts)' }
]

export const PEER_HELP = formatHelp(
  'golem-clay-peer [options]',
  `Golem Clay headless Node peer: joins the network through a relay over TCP
and talks to tabs through it. Type commands on standard input:
  peers                    list the peers the relays know
  send <peer ID> <text>    send a direct message
${STORAGE_COMMANDS_HELP}
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
      json: values.json === true
    }
  }
}
