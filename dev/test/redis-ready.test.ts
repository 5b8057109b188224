import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redisReadyTimeoutMs } from '../src/servers/redis.js';

const dirs: string[] = [];
function dataDir(aofFiles: Record<string, number> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'qd-redis-ready-'));
  dirs.push(dir);
  if (Object.keys(aofFiles).length > 0) mkdirSync(join(dir, 'appendonlydir'));
  for (const [file, bytes] of Object.entries(aofFiles)) {
    const path = join(dir, 'appendonlydir', file);
    writeFileSync(path, '');
    truncateSync(path, bytes); // sparse: the size counts, no bytes are written
  }
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('how long a starting Redis may take to answer', () => {
  it('is 30 s for a Redis with no append-only file yet', () => {
    expect(redisReadyTimeoutMs(dataDir())).toBe(30_000);
  });

  it('grows by a second for every 10 MB of append-only file it must load first, every file of the log counted', () => {
    expect(redisReadyTimeoutMs(dataDir({ 'appendonly.aof.1.base.rdb': 1_000_000 }))).toBe(31_000);
    const large = dataDir({
      'appendonly.aof.7.base.rdb': 750_000_000,
      'appendonly.aof.7.incr.aof': 450_000_000,
      'appendonly.aof.manifest': 88,
    });
    expect(redisReadyTimeoutMs(large)).toBe(151_000);
  });
});
