import { machineLine } from '../common/index.ts'
import type { MachineInfo } from '../common/index.ts'
import type { Scenario } from './scenarios.ts'

export interface PhaseResult {
  joins: number
  succeeded: number
  joinMsP50: number
  joinMsP95: number
  /** Median difficulty asked, bits. */
  difficulty: number
  maxDifficulty: number
  /** Dials to the relay that failed (and were retried) on the way to the joins that worked. */
  dialFailures: number
  errors: string[]
}

export interface ScenarioResult {
  scenario: Scenario
  quiet: PhaseResult
  attacked: PhaseResult
  relayCores: number
  attackerCores: number
  relayRssMiB: number
  attackCounters: Record<string, number>
  refusals: Record<string, number>
  /** What the relay's other defences did (its /status `limits`). */
  limits: Record<string, number>
}

/** Whether a scenario meets the issue's target: every join, difficulty within a bit, median ≤ 2× quiet. */
export function meetsTarget (r: ScenarioResult): boolean {
  return r.attacked.succeeded === r.attacked.joins && r.attacked.maxDifficulty <= r.quiet.difficulty + 1 && r.attacked.joinMsP50 <= 2 * r.quiet.joinMsP50
}

const list = (o: Record<string, number>): string => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'

export function attackSection (results: ScenarioResult[], m: MachineInfo, joins: number): string {
  const rows = results.map(r => `| ${r.scenario.finding} | ${r.attacked.succeeded}/${r.attacked.joins} (${r.attacked.dialFailures}); quiet ${r.quiet.succeeded}/${r.quiet.joins} (${r.quiet.dialFailures}) | ${r.quiet.joinMsP50} | ${r.attacked.joinMsP50} | ${r.attacked.joinMsP95} | ${r.quiet.difficulty} / ${r.attacked.difficulty} (max ${r.attacked.maxDifficulty}) | ${r.relayCores} | ${r.relayRssMiB} | ${meetsTarget(r) ? 'yes' : 'no'} |`)
  const details = results.map(r => `- **${r.scenario.finding}** — attack: ${r.scenario.rate}${r.scenario.relayArgs.length > 0 ? ` (relay ${r.scenario.relayArgs.join(' ')})` : ''}. The attacker's own counters over the run: ${list(r.attackCounters)}; it used ${r.attackerCores} cores at nice 19. The relay's refusals: ${list(r.refusals)}; and ${list(Object.fromEntries(Object.entries(r.limits).filter(([, v]) => Number(v) > 0)))}.${r.attacked.errors.length > 0 ? ` Failed joins: ${r.attacked.errors.join('; ')}.` : ''}`)
  return `## Attacks

\`npm run bench:attack\`: each finding of the hardening issue played against a real relay, with an honest newcomer's joins measured before and during the attack in one run.

${machineLine(m, false)}

| Attack | Honest joins that worked (failed dials) | Join p50, quiet (ms) | Join p50, attacked (ms) | Join p95, attacked (ms) | Difficulty asked, quiet / attacked (bits) | Relay CPU (cores) | Relay RSS (MiB) | Target met |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Target (issue): under every attack 100 % of honest joins succeed, the difficulty asked stays within 1 bit of the quiet value, and the median join time stays ≤ 2 × the unattacked median.

Method:
- **Relay.** A real relay gateway process (\`relay/bin/relay.ts\`, the README's defaults: 22 bits when quiet, capped at 28, and the per-address limits) on 127.0.0.1, a fresh one with a fresh data folder for each attack.
- **Honest newcomer.** ${joins} joins per phase, one after another, each a new Node peer (\`createNodePeer\`, new identity, one solver worker) in the bench process dialing from 127.0.0.1 over TCP. A join is timed from \`start()\` until the relay connector reports a reservation on the relay (which includes libp2p's 1 s debounce of the address update that announces it), less the time its own proof-of-work search took (measured around the solver: at 22 bits it varies from ms to seconds, which is luck, not the relay). The difficulty is the one the relay's challenge asked. A dial the relay refuses or resets is retried by the newcomer's relay connector (the join may still work); such failed dials are counted beside the joins. Where the attack is on storage, every join also stores 17 bytes (not timed) and counts as failed if that fails. The quiet phase runs first, on the same relay, before the attack starts; the attacked phase starts once the attacker's counters show it in full swing.
- **Attacker.** \`e2e/fixtures/attacks/run.ts\` (the same code as the adversary tests in \`e2e/adversary.spec.ts\`), its own process under \`nice -n 19\` sharing the two cores, sending only to loopback from 127.0.0.2 and up. Attackers that must pass a handshake solve for real on one worker thread.
- **Relay CPU and memory.** CPU is the relay process's utime + stime over the attacked phase (from /proc), in cores; memory is its highest resident set size sampled every 0.5 s over that phase.

Per attack:
${details.join('\n')}
`
}
