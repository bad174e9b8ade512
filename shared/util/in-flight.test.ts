import { describe, expect, it } from 'vitest'
import { InFlight } from './in-flight.ts'

describe('InFlight', () => {
  it('is idle once every piece of work ended (ending twice counts once), and stops waiting when the signal aborts', async () => {
    const work = new InFlight()
    const end = work.begin()
    let release: () => void = () => {}
    work.track(new Promise<void>((resolve, reject) => { release = () => { reject(new Error('failed work ends too')) } }))
    expect(work.size).toBe(2)
    let idle = false
    const waiting = work.idle(AbortSignal.timeout(10_000)).then(() => { idle = true })
    end()
    end()
    await new Promise(resolve => setTimeout(resolve, 10))
    expect([work.size, idle]).toEqual([1, false])
    release()
    await waiting
    expect(work.size).toBe(0)

    work.begin()
    const controller = new AbortController()
    const bounded = work.idle(controller.signal)
    controller.abort()
    await bounded
    expect(work.size).toBe(1)
  })
})
