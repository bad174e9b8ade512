import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.ts'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { MAX_WIDGET_FRAME, validateWidgetReport } from './widget-wire.ts'

describe('widget reports', () => {
  const good = { v: 1, run: 'b9c2-41', account: '0x00000000000000000000000000000000000C1a11', done: 12, earned: '12000000000000000', working: true }

  it('round-trip within the frame limit', () => {
    expect(decodeJson(encodeJson(good, MAX_WIDGET_FRAME), validateWidgetReport)).toEqual(good)
  })

  it('refuse anything else with a typed error', () => {
    for (const bad of [null, [], 'x', { ...good, v: 2 }, { ...good, run: '' }, { ...good, run: 'x'.repeat(41) }, { ...good, run: 'a b' },
      { ...good, account: '0x12' }, { ...good, done: -1 }, { ...good, done: 1.5 }, { ...good, done: '3' }, { ...good, earned: '-1' }, { ...good, earned: 12 }, { ...good, earned: '1'.repeat(37) }, { ...good, working: 'yes' }, { ...good, working: undefined }]) {
      expect(() => validateWidgetReport(bad)).toThrow(InvalidMessageError)
    }
  })
})
