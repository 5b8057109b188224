import { describe, expect, it } from 'vitest';
import { formatDuration, isDuration, parseDuration } from '../src/duration.js';

describe('durations', () => {
  it.each([
    ['20m', 1_200_000],
    ['5s', 5_000],
    ['1500ms', 1_500],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['1d', 86_400_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(isDuration(text)).toBe(true);
  });

  it.each(['', '20', 'm', '20 m', '-5s', '5sec', '1h 30m', 'abc'])('refuses %j with a message saying what a duration is', (text) => {
    expect(isDuration(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(/not a duration.*20m/);
  });

  it('spells durations back in their shortest form', () => {
    expect(formatDuration(1_200_000)).toBe('20m');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(1_500)).toBe('1s500ms');
    expect(formatDuration(0)).toBe('0s');
    expect(parseDuration(formatDuration(3_723_004))).toBe(3_723_004);
  });
});
