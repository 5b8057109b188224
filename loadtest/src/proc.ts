/** What the stack's processes use, read from Linux's /proc: CPU time and resident memory. */
import { readdirSync, readFileSync } from 'node:fs';

/** The processes whose children do their work (a Postgres backend per connection). */
// Postgres serves from its backends, nginx (the local gateway) from its workers.
export const servesFromChildren = (name: string) => name === 'postgres' || name === 'gateway';

const ticksPerSecond = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  cpuTicks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) used so far by the given processes, and with `withChildren` by all
 * their descendants too (Postgres serves each connection from a child process; but a process that
 * started the stack is the parent of every service, so children are not counted by default).
 * From /proc: Linux only, 0 elsewhere.
 */
export function cpuSeconds(rootPids: number[], options: { withChildren?: boolean } = {}): number {
  if (!options.withChildren) return rootPids.reduce((sum, pid) => sum + (readStat(pid)?.cpuTicks ?? 0), 0) / ticksPerSecond;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  const stats = entries.map((name) => readStat(Number(name))).filter((s): s is Stat => s !== undefined);
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const seen = new Set<number>();
  const stack = [...rootPids];
  let ticks = 0;
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += byPid.get(pid)?.cpuTicks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / ticksPerSecond;
}

/** Resident set size and its high-water mark of a process, in MiB, from /proc (undefined when gone). */
export function residentMemory(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}
