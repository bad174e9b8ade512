import type { AttackName } from '../../e2e/fixtures/attacks/counters.ts'
import type { AttackEvent } from '../../e2e/fixtures/attacks/attacker.ts'

/** One finding of the hardening issue as the bench plays it: the relay's flags, the attack and its rate, and when it is in full swing. */
export interface Scenario {
  name: string
  finding: string
  relayArgs: string[]
  attack: AttackName
  /** Options for e2e/fixtures/attacks/run.ts; `relayPorts` fills in targets that need the relay's ports. */
  options: (relayPorts: { tcp: number, ws: number }) => Record<string, unknown>
  /** The stated rate, for the report. */
  rate: string
  /** The attack is running at full strength once its counters pass this. */
  underWay: (e: AttackEvent) => boolean
  /** Honest joins also store 17 bytes (the attack is on storage). */
  store?: boolean
}

const hosts = (n: number, from = 2): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${from + i}`)

export const SCENARIOS: Scenario[] = [
  {
    name: 'stalled-handshakes',
    finding: '1. handshakes that never solve',
    relayArgs: [],
    attack: 'stall',
    options: () => ({ hosts: hosts(4), rate: 8, hello: 'mixed' }),
    rate: '8 new connections/s from 4 hosts, each opening the session stream (half with a Hello) and never solving',
    underWay: e => (e.stalled ?? 0) >= 64
  },
  {
    name: 'stream-resets',
    finding: '2. session streams opened and reset',
    relayArgs: [],
    attack: 'reset',
    options: () => ({ hosts: hosts(2), connections: 4, rate: 400 }),
    rate: 'up to 400 session streams/s opened and reset over 4 connections from 2 hosts (redialing as they are cut)',
    underWay: e => (e.reset ?? 0) + (e.failed ?? 0) >= 50
  },
  {
    name: 'relay-claims',
    finding: '3. a Hello that says "relay" asking to replicate',
    relayArgs: [],
    attack: 'claim-relay',
    options: () => ({ host: '127.0.0.2', repeat: 1 }),
    rate: 'one new identity a second claiming the relay role, asking for the catalog and opening the replication protocol',
    underWay: e => (e.refused ?? 0) + (e.catalog ?? 0) >= 2
  },
  {
    name: 'reservation-churn',
    finding: '4. reservations taken by identities that leave',
    relayArgs: ['--max-reservations', '24'],
    attack: 'reserve',
    options: () => ({ hosts: hosts(3), count: 100_000 }),
    rate: 'throwaway identities from 3 hosts, one at a time per host (about 3/s), each solving, reserving and leaving',
    underWay: e => (e.reserved ?? 0) >= 24
  },
  {
    name: 'declared-uploads',
    finding: '5. uploads declared and never sent',
    relayArgs: [],
    attack: 'declare',
    options: () => ({ hosts: hosts(2), identities: 10, size: 2 ** 30, many: 200 }),
    rate: '10 identities declaring 1 GiB each and one declaring 200 one-byte uploads, all sending nothing and holding their streams',
    underWay: e => Object.entries(e).filter(([k]) => k !== 'event').reduce((n, [, v]) => n + Number(v), 0) >= 210,
    store: true
  },
  {
    name: 'half-open-sockets',
    finding: '6. half-open sockets',
    relayArgs: [],
    attack: 'half-open',
    options: (ports) => ({ target: { host: '127.0.0.1', port: ports.tcp }, hosts: ['127.0.0.2'], rate: 2, max: 16 }),
    rate: '2 new sockets/s from 127.0.0.2 sending half a multistream header, up to 16 held open',
    underWay: e => (e.opened ?? 0) >= 12
  },
  {
    name: 'pex-poison',
    finding: '7. fake relay records by peer exchange',
    relayArgs: [],
    attack: 'poison',
    options: () => ({ host: '127.0.0.2', perAsk: 64 }),
    rate: 'a node that listens and answers as a relay, handing out 64 fresh fake relay records on every ask (the relay asks every 10 s)',
    underWay: e => (e.asked ?? 0) >= 2
  }
]
