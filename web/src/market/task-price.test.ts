import { describe, expect, it } from 'vitest'
import { DepositTooSmallError } from '../../../shared/payments/index.ts'
import { formProblems, subtasksOf } from './task-form.ts'
import { parsePrice, submitErrorText, taskCost } from './task-price.ts'

const TOKEN = { symbol: 'tCLAY', decimals: 18 }

describe('a paid task in the form', () => {
  it('takes the price in tokens and gives it in base units, within what a header carries', () => {
    expect(parsePrice('0.001', TOKEN)).toEqual({ units: 10n ** 15n })
    expect(parsePrice(' 0.005 ', TOKEN).units).toBe(5n * 10n ** 15n)
    expect(parsePrice('abc', TOKEN).problem).toBe('Enter a price such as 0.001')
    expect(parsePrice('0', TOKEN).problem).toBe('A paid task needs a price above zero')
    expect(parsePrice('0.0000000000000000001', TOKEN).problem).toBe('At most 18 decimals')
    // a header's price is a safe integer: 0.01 of an 18-decimal token is past it
    expect(parsePrice('0.01', TOKEN).problem).toMatch(/^At most 0\.009007 tCLAY per subtask/)
    expect(parsePrice('0.001', undefined).problem).toMatch(/not known yet/)
  })

  it('asks the price only when the relay runs a chain', () => {
    const form = { kind: 'mandelbrot', size: 256, tile: 64, k: 1, primesTo: 1000, price: 'x' } as const
    expect(formProblems(form)).toEqual({})
    expect(formProblems(form, { token: TOKEN })).toEqual({ price: 'Enter a price such as 0.001' })
  })

  it('costs a note per assignment the task may make, as taskBudget', () => {
    expect(subtasksOf({ kind: 'mandelbrot', size: 256, tile: 64, k: 1, primesTo: null })).toBe(16)
    expect(subtasksOf({ kind: 'mandelbrot', size: 100, tile: 64, k: 1, primesTo: null })).toBe(4)
    // 16 tiles + a quarter of them reassigned
    expect(taskCost(16, 1, 10n ** 15n)).toEqual({ assignments: 20, cost: 2n * 10n ** 16n })
    expect(taskCost(16, 3, 1n).assignments).toBe(60)
  })

  it('says what a too-small deposit needs, in tokens', () => {
    const err = new DepositTooSmallError('short', 10n ** 16n, 4n * 10n ** 16n)
    expect(submitErrorText(err, TOKEN)).toContain('Your deposit of 0.01 tCLAY is too small')
    expect(submitErrorText(err, TOKEN)).toContain('Deposit at least 0.03 tCLAY more in the Wallet card')
    // the wallet already sees a deposit that covers it: the relay's read is a moment old
    expect(submitErrorText(err, TOKEN, 10n ** 18n)).toBe('The relay has not seen your new deposit yet: submit again in a moment')
    expect(submitErrorText(new DepositTooSmallError('withdrawing', 5n, 0n), TOKEN)).toMatch(/being withdrawn/)
  })
})
