// BENCHMARKS.md: one file, a `## ` section per bench, each written by its own run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const INTRO = '# Benchmarks\n\nMeasured on one machine with `npm run bench:*`; each section says how.\n'

/**
 * Replaces the `## <title>` section of the file (up to the next `## `
 * heading), or appends it, leaving every other section as it was. The file
 * is read right before writing: other benches may have changed it meanwhile.
 */
export function upsertSection (file: string, title: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : INTRO
  const lines = text.split('\n')
  const start = lines.findIndex(l => l.trim() === `## ${title}`)
  const body = section.trimEnd().split('\n')
  let next: string[]
  if (start === -1) {
    const head = lines.join('\n').trimEnd().split('\n')
    next = [...head, '', ...body, '']
  } else {
    const after = lines.findIndex((l, i) => i > start && /^## /.test(l))
    const tail = after === -1 ? [] : ['', ...lines.slice(after)]
    const head = lines.slice(0, start)
    while (head.length > 0 && head[head.length - 1]?.trim() === '') head.pop()
    next = [...head, ...(head.length > 0 ? [''] : []), ...body, ...tail]
    if (tail.length === 0) next.push('')
  }
  writeFileSync(file, next.join('\n'))
}
