// How a run of `npm run bench:relay` is shaped, from the environment:
//   BENCH_RELAY_QUICK=1          a small run (50 → 200 tabs, short windows) that leaves BENCHMARKS.md alone
//   BENCH_RELAY_STEPS=<n,n,…>    tab counts to grow through
//   BENCH_RELAY_PROCESSES=<n>    tab processes (default 3)
//   BENCH_RELAY_MINUTES=<n>      time budget of the whole run (default 24)
//   BENCH_RELAY_PROFILE=<dir>    also keep each step's relay CPU profile (.cpuprofile) there
const env = process.env
const quick = env.BENCH_RELAY_QUICK === '1' || process.argv.includes('--quick')

const list = (text: string | undefined): number[] | undefined =>
  text == null || text === '' ? undefined : text.split(',').map(Number).filter(n => Number.isInteger(n) && n > 0)

/** `count` (≤ 250) loopback addresses 127.0.`net`.2, .3, …: each its own host to the relay. */
function addresses (count: number, net: number): string[] {
  return Array.from({ length: Math.min(count, 250) }, (_, i) => `127.0.${net}.${i + 2}`)
}

export const CONFIG = {
  quick,
  steps: list(env.BENCH_RELAY_STEPS) ?? (quick ? [50, 100, 200] : [250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000]),
  tabProcesses: Number(env.BENCH_RELAY_PROCESSES ?? (quick ? 2 : 3)),
  /** Tabs dial from these (each a "host" to libp2p's 5-connections-a-second rule and to the relay's per-address limits). */
  tabHosts: addresses(quick ? 12 : 60, 0),
  /** Probes dial from their own. */
  probeHosts: addresses(quick ? 5 : 10, 1),
  /** Joins under way at once: per address (the relay holds 16 connections without a session per address) and per tab process. */
  joinsPerHost: 4,
  joinsPerProcess: 32,
  difficulty: 8,
  maxSessions: 20_000,
  /** The heartbeat p99 that ends the run: the knee is the last step under it. */
  p99LimitMs: 250,
  settleMs: quick ? 5_000 : 10_000,
  measureMs: quick ? 10_000 : 30_000,
  profileMs: quick ? 5_000 : 10_000,
  budgetMs: Number(env.BENCH_RELAY_MINUTES ?? (quick ? 6 : 24)) * 60_000,
  /** Stop before MemAvailable would fall under this, MiB. */
  memoryFloorMiB: 2_048,
  profileDir: env.BENCH_RELAY_PROFILE,
  /**
   * Tab processes run behind the relay and the probes: at nice 19 they
   * starved whenever anything else ran at normal priority (their tabs then
   * answered the relay's challenges and heartbeats seconds late); at 10 the
   * relay still gets ~90 % of a contended core against one of them.
   */
  tabNice: 10,
  /** Tab processes hold thousands of nodes. */
  tabNodeFlags: ['--max-old-space-size=8192', '--max-semi-space-size=32']
}
