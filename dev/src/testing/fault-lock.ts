/**
 * The fault profile's servers are shared by every fault test file, and vitest runs files side by
 * side: a file that stops Redis must not do it in the middle of another file's sale. Each fault
 * suite holds this lock (a directory, created atomically, naming its holder's pid) while it runs.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../paths.js';

const lockDir = () => join(stateDir('fault'), 'fault-tests.lock');

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(lockDir(), 'pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no other test process holds the fault servers; resolves with the release. */
export async function holdFaultServers(timeoutMs = 600_000): Promise<() => void> {
  mkdirSync(stateDir('fault'), { recursive: true });
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir());
      writeFileSync(join(lockDir(), 'pid'), String(process.pid));
      return () => rmSync(lockDir(), { recursive: true, force: true });
    } catch {
      // held: by a live process, wait; by a dead one (or one still writing its pid), take it over
      if (!holderAlive()) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!holderAlive()) rmSync(lockDir(), { recursive: true, force: true });
      }
      if (Date.now() > until) throw new Error('timed out waiting for the fault servers');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
