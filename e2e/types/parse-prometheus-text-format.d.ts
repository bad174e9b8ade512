declare module 'parse-prometheus-text-format' {
  /** One metric family as the parser gives it (gauges, counters and untyped have a value per sample). */
  export interface MetricFamily {
    name: string
    help: string
    type: 'GAUGE' | 'COUNTER' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: Array<{ value?: string, labels?: Record<string, string>, buckets?: Record<string, string>, count?: string, sum?: string }>
  }
  export default function parsePrometheusTextFormat (text: string): MetricFamily[]
}
