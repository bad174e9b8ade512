// One value out of a Prometheus text exposition (what the relay's /metrics
// serves): enough for the few unlabelled gauges the bench reads, without a
// parser dependency in the bench.

/** The value of the unlabelled sample `name`, or undefined when the text has none. */
export function metricValue (text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    // `name value` or `name{} value`; a longer name sharing the prefix is another metric
    const match = /^(?:\{\})?\s+(\S+)/.exec(rest)
    if (match != null) return Number(match[1])
  }
  return undefined
}
