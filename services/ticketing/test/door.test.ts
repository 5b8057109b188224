import { describe, expect, it } from 'vitest';
import { Door } from '../src/door.js';

function door(limit: number, random = 0) {
  const clock = { nowMs: 10_000, now: () => clock.nowMs };
  return { door: new Door(limit, { clock, random: () => random }), clock };
}

describe('the door of ticket issue', () => {
  it('lets in up to its limit at once, and one more for each that leaves', () => {
    const { door: d } = door(2);
    expect(d.enter().entered).toBe(true);
    expect(d.enter().entered).toBe(true);
    expect(d.enter().entered).toBe(false);
    d.leave(true);
    expect(d.enter().entered).toBe(true);
  });

  it('lets everyone in with a limit of 0', () => {
    const { door: d } = door(0);
    for (let i = 0; i < 10_000; i++) expect(d.enter().entered).toBe(true);
  });

  it('asks for a longer wait the more are turned away for each ticket issued, never less than 1 s nor more than 60 s', () => {
    const { door: d, clock } = door(1);
    d.enter();
    const first = d.enter();
    expect(first).toEqual({ entered: false, retryAfterSeconds: 1 });
    // one ticket a second goes out while 20 a second are turned away
    for (let second = 0; second < 3; second++) {
      clock.nowMs += 1_000;
      d.leave(true);
      d.enter();
      for (let i = 0; i < 19; i++) d.enter();
    }
    expect(d.enter()).toEqual({ entered: false, retryAfterSeconds: 20 });
    for (let i = 0; i < 10_000; i++) d.enter();
    expect(d.enter()).toEqual({ entered: false, retryAfterSeconds: 60 });
  });

  it('spreads the returning crowd with jitter of up to the wait again', () => {
    const { door: d } = door(1, 0.99);
    d.enter();
    for (let i = 0; i < 9; i++) d.enter();
    // 10 turned away, none issued yet (counted as 1): 10 s, plus up to 99 % jitter
    expect(d.enter()).toEqual({ entered: false, retryAfterSeconds: 20 });
  });

  it('forgets what happened more than two seconds ago', () => {
    const { door: d, clock } = door(1);
    d.enter();
    for (let i = 0; i < 50; i++) d.enter();
    clock.nowMs += 5_000;
    expect(d.enter()).toEqual({ entered: false, retryAfterSeconds: 1 });
  });
});
