import { describe, expect, it } from 'vitest'
import { Scheduler } from './scheduler.ts'

describe('Scheduler', () => {
  it('hands out subtasks lowest first, once each with k = 1', () => {
    const s = new Scheduler({ subtasks: 3 })
    expect(s.next('a')).toBe(0)
    s.assigned('x0', 0, 'a')
    expect(s.next('b')).toBe(1)
    s.assigned('x1', 1, 'b')
    expect(s.reported('x0', 'h0')).toEqual({ subtask: 0, sha: 'h0', winners: ['x0'], losers: [] })
    expect(s.next('a')).toBe(2)
    s.assigned('x2', 2, 'a')
    expect(s.next('c')).toBeUndefined()
    s.failed('x1')
    expect(s.next('c')).toBe(1)
  })

  it('sends each subtask to k distinct providers and lets the majority decide', () => {
    const s = new Scheduler({ subtasks: 1, k: 3 })
    for (const p of ['a', 'b', 'c']) {
      expect(s.next(p)).toBe(0)
      s.assigned(`x-${p}`, 0, p)
    }
    expect(s.next('a')).toBeUndefined()
    expect(s.next('d')).toBeUndefined()
    expect(s.reported('x-a', 'good')).toBeUndefined()
    expect(s.reported('x-c', 'evil')).toBeUndefined()
    expect(s.reported('x-b', 'good')).toEqual({ subtask: 0, sha: 'good', winners: ['x-a', 'x-b'], losers: ['x-c'] })
    expect(s.complete).toBe(true)
  })

  it('asks one more provider when the first results disagree', () => {
    const s = new Scheduler({ subtasks: 1, k: 2 })
    s.assigned('x-a', 0, 'a')
    s.assigned('x-b', 0, 'b')
    expect(s.reported('x-a', 'h1')).toBeUndefined()
    expect(s.reported('x-b', 'h2')).toBeUndefined()
    expect(s.next('a')).toBeUndefined()
    expect(s.next('c')).toBe(0)
    s.assigned('x-c', 0, 'c')
    expect(s.reported('x-c', 'h2')).toEqual({ subtask: 0, sha: 'h2', winners: ['x-b', 'x-c'], losers: ['x-a'] })
  })

  it('judges a late replica against the decided result', () => {
    const s = new Scheduler({ subtasks: 1, k: 3 })
    s.assigned('a', 0, 'pa'); s.assigned('b', 0, 'pb'); s.assigned('c', 0, 'pc')
    s.reported('a', 'h'); s.reported('b', 'h')
    expect(s.reported('c', 'bad')).toEqual({ subtask: 0, sha: 'h', winners: [], losers: ['c'] })
  })

  it('gives excluded providers nothing and gives up after too many replicas', () => {
    const s = new Scheduler({ subtasks: 1, k: 1, maxReplicas: 2 })
    s.exclude('bad')
    expect(s.next('bad')).toBeUndefined()
    s.assigned('1', 0, 'a'); s.failed('1')
    s.assigned('2', 0, 'b'); s.failed('2')
    expect(s.failedSubtasks).toEqual([0])
    expect(s.next('c')).toBeUndefined()
  })

  it('ignores reports for unknown or finished assignments (replays)', () => {
    const s = new Scheduler({ subtasks: 1 })
    s.assigned('1', 0, 'a')
    expect(s.reported('nope', 'h')).toBeUndefined()
    expect(s.reported('1', 'h')).toBeDefined()
    expect(s.reported('1', 'h')).toBeUndefined()
  })
})
