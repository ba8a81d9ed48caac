// parseDuration / formatDuration: the durations users write in workflow files
// ("90s", "15m", "1h30m", "500ms", bare seconds) and the short form we log.
import { describe, expect, test } from '@jest/globals'
import { formatDuration, parseDuration } from '../src/duration.js'

describe('parseDuration', () => {
  test.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1h30m15s', 5_415_000],
    ['2m30s', 150_000],
    ['500ms', 500],
    ['1s500ms', 1_500],
    ['1m1ms', 60_001],
    ['0s', 0],
    ['0ms', 0],
    ['1.5s', 1_500],
    ['1.5h', 5_400_000],
    ['0.25m', 15_000],
    // units in any order and repeated are summed
    ['30m1h', 5_400_000],
    ['1m1m', 120_000],
    // surrounding whitespace is trimmed
    ['  90s  ', 90_000],
    ['\t15m\n', 900_000]
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  test.each([
    ['0', 0],
    ['30', 30_000],
    ['007', 7_000],
    ['1.5', 1_500],
    ['0.1', 100],
    ['0.0005', 1], // rounded to whole ms
    ['0.0004', 0]
  ])('bare number %j is seconds: %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  test('fractions of a millisecond are rounded', () => {
    expect(parseDuration('1.4ms')).toBe(1)
    expect(parseDuration('1.5ms')).toBe(2)
  })

  test.each([
    '',
    '   ',
    'abc',
    '5x',
    's',
    'ms',
    '1h 30m', // no spaces between parts
    '1h,30m',
    '90 s',
    '90S', // units are lower-case only
    '1H',
    '1d', // no days
    '1w',
    '1us',
    '-5s',
    '-5',
    '+5',
    '.5',
    '.5s',
    '5.',
    '5.s',
    '1e3',
    '0x10',
    '1h30', // a trailing bare number is not allowed after units
    '30m1',
    'Infinity',
    'NaN',
    '1,5s'
  ])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  test('the parser has no state between calls (sticky regex is reset)', () => {
    expect(parseDuration('5x')).toBeUndefined()
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('1h 30m')).toBeUndefined()
    expect(parseDuration('90s')).toBe(90_000)
  })
})

describe('formatDuration', () => {
  test.each([
    [0, '0ms'],
    [1, '1ms'],
    [350, '350ms'],
    [999, '999ms'],
    [0.4, '0ms'],
    [-5, '0ms'], // negative (clock skew) is shown as 0
    [1000, '1.0s'],
    [1234, '1.2s'],
    [1299, '1.2s'], // truncated, not rounded
    [9999, '9.9s'],
    [10_000, '10s'],
    [10_999, '10s'],
    [45_000, '45s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [72_000, '1m12s'],
    [90_000, '1m30s'],
    [900_000, '15m'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h0m'],
    [3_603_000, '1h0m3s'],
    [3_723_000, '1h2m3s'],
    [5_400_000, '1h30m'],
    [90_000_000, '25h0m']
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  test('formatDuration of what parseDuration reads gives back an equivalent duration for whole seconds', () => {
    for (const text of ['90s', '15m', '1h30m', '2h', '45s', '1h2m3s']) {
      const ms = parseDuration(text)!
      expect(parseDuration(formatDuration(ms))).toBe(ms)
    }
  })

  test('999.6 ms prints as "1.0s"', () => {
    expect(formatDuration(999.6)).toBe('1.0s')
  })
})
