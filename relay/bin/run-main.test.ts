import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

/** relay/testing/run-main-child.ts in `mode`; sends SIGTERM `signals` times in all, the first (serve) once it is ready, the others once it prints "stopping", 100 ms apart; its exit code and lines. */
async function run (mode: 'self' | 'serve', signals: number): Promise<{ code: number | null, lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/testing/run-main-child.ts', mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  // 'close', not 'exit': the child may exit before its last lines are read
  const exited = once(child, 'close') as Promise<[number | null]>
  const lines: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line)
      if (line === 'ready' && mode === 'serve') child.kill('SIGTERM')
      // 100 ms apart: a signal sent while the same one is still pending merges with it
      if (line === 'stopping') for (let i = mode === 'serve' ? 1 : 0; i < signals; i++) setTimeout(() => { child.kill('SIGTERM') }, 100 * i)
    })
  }
  const [code] = await exited
  return { code, lines }
}

describe('runMain', () => {
  it('a signal during a stop the program began itself joins it: the stop ends gracefully', { timeout: 30_000 }, async () => {
    const { code, lines } = await run('self', 1)
    expect(lines).toContain('stopped')
    expect(code).toBe(0)
  })

  it('a second signal exits at once, whoever began the stop', { timeout: 30_000 }, async () => {
    for (const mode of ['serve', 'self'] as const) {
      const { code, lines } = await run(mode, 2)
      expect(lines, mode).not.toContain('stopped')
      expect(lines, mode).toContain('child: second SIGTERM, exiting now')
      expect(code, mode).toBe(130)
    }
  })
})
