import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '@quickdeal/operator';

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker, and brings it back when it changed meanwhile', async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    queue.add('a');
    const key = await queue.get();
    queue.add('a'); // changed while processing
    expect(queue.length).toBe(0);
    queue.done(key!);
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('hands a key to a worker that was already waiting', async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  it('backs off exponentially per key, up to the maximum, and starts over after forget', () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    expect([1, 2, 3, 4, 5].map(() => queue.addRateLimited('a'))).toEqual([10, 20, 40, 50, 50]);
    expect(queue.addRateLimited('b')).toBe(10);
    queue.forget('a');
    expect(queue.addRateLimited('a')).toBe(10);
    queue.shutDown();
  });

  it('brings a scheduled key back after its delay; the earlier schedule wins', async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    queue.addAfter('a', 5_000);
    queue.addAfter('a', 30);
    const started = Date.now();
    expect(await queue.get()).toBe('a');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    queue.shutDown();
  });

  it('answers waiting workers with undefined on shut down', async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100 });
    const waiting = queue.get();
    queue.addAfter('late', 20);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    await sleep(40);
    expect(queue.length).toBe(0);
  });
});
