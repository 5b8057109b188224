/**
 * A small process supervisor for the local stack: starts a server detached with its output in a
 * log file, waits until it is ready, records it in a pid file, and stops only what a pid file names.
 * State lives in <repo>/.quickdeal/<profile>: <name>.pid (JSON) and logs/<name>.log.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SetupError } from './errors.js';
import { logPath, stateDir } from './paths.js';
import type { ProfileName } from './profiles.js';

export interface ServerSpec {
  name: string; // pid file <state>/<name>.pid, log <state>/logs/<name>.log
  command: string;
  args: string[];
  env?: Record<string, string>; // merged over process.env
  cwd?: string;
  port: number; // must be free before start; ready when it accepts TCP, unless `ready` is given
  extraPorts?: number[]; // other ports the server binds (Kafka's controller): must be free too
  ready?: () => Promise<boolean>; // extra readiness probe polled until true
  readyTimeoutMs?: number; // default 30000
  user?: string; // run as this OS user (postgres), via setpriv
  stopSignal?: NodeJS.Signals; // default SIGTERM (Postgres wants SIGINT: fast shutdown)
}

export class SupervisorError extends SetupError {
  override name = 'SupervisorError';
}

/** What a pid file holds. */
interface PidRecord {
  name: string;
  pid: number;
  port: number;
  startTime: string | null; // the kernel's start time of the process, so a reused pid is not mistaken for ours
  command: string;
  args: string[];
  log: string;
  stopSignal: NodeJS.Signals;
  startedAt: string;
}

const POLL_MS = 100;
const PORT_RELEASE_MS = 2_000; // a killed process can hold its listening socket a moment after it is gone
const PROBE_TIMEOUT_MS = 5_000;

export async function ensureRunning(profile: ProfileName, spec: ServerSpec): Promise<{ pid: number; started: boolean }> {
  return withLock(profile, spec.name, async () => {
    mkdirSync(join(stateDir(profile), 'logs'), { recursive: true });
    const log = logPath(profile, spec.name);
    const existing = readPidFile(profile, spec.name);
    if (existing && isAlive(existing)) {
      // Ours and alive: ready now, or still starting (another invocation), or wedged → restart.
      if (await waitUntilReady(spec, () => isAlive(existing), spec.readyTimeoutMs ?? 30_000)) {
        return { pid: existing.pid, started: false };
      }
      await stopServer(profile, spec.name);
    } else if (existing) {
      rmSync(pidFilePath(profile, spec.name), { force: true });
    }
    for (const port of [spec.port, ...(spec.extraPorts ?? [])]) {
      if (!(await waitForFreePort(port, PORT_RELEASE_MS))) {
        throw new SupervisorError(
          `${spec.name}: port ${port} on 127.0.0.1 is already taken by another process; free it or stop that process (log: ${log})`,
        );
      }
    }
    return start(profile, spec, log);
  });
}

async function start(profile: ProfileName, spec: ServerSpec, log: string): Promise<{ pid: number; started: boolean }> {
  const { command, args } = spec.user ? asUser(spec.user, spec.command, spec.args) : spec;
  const fd = openSync(log, 'a');
  writeSync(fd, `\n--- ${new Date().toISOString()} quickdeal starts ${spec.name}: ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    detached: true, // its own process group: survives the CLI and misses the terminal's Ctrl-C
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...spec.env },
    cwd: spec.cwd,
  });
  closeSync(fd);
  let exited: string | null = null;
  child.on('exit', (code, signal) => {
    exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.on('error', (error) => {
    exited = `could not be started (${error.message})`;
  });
  child.unref();

  const pid = child.pid;
  if (pid === undefined) {
    await sleep(0); // let the 'error' event arrive
    throw new SupervisorError(`${spec.name}: ${spec.command} ${exited ?? 'could not be started'} (log: ${log})`);
  }
  const record: PidRecord = {
    name: spec.name,
    pid,
    port: spec.port,
    startTime: processStartTime(pid),
    command,
    args,
    log,
    stopSignal: spec.stopSignal ?? 'SIGTERM',
    startedAt: new Date().toISOString(),
  };
  writeFileSync(pidFilePath(profile, spec.name), `${JSON.stringify(record, null, 2)}\n`);

  const timeoutMs = spec.readyTimeoutMs ?? 30_000;
  const ready = await waitUntilReady(spec, () => exited === null, timeoutMs);
  if (ready) return { pid, started: true };

  if (exited !== null) {
    rmSync(pidFilePath(profile, spec.name), { force: true });
    throw new SupervisorError(`${spec.name}: ${exited} before it was ready (log: ${log})`);
  }
  await stopServer(profile, spec.name, 5_000);
  throw new SupervisorError(`${spec.name}: not ready after ${Math.round(timeoutMs / 1000)}s, stopped it (log: ${log})`);
}

/** Polls the port and the readiness probe until both say yes (true), the process is gone or time is up (false). */
async function waitUntilReady(spec: ServerSpec, alive: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) return false;
    if ((await portAnswers(spec.port)) && (!spec.ready || (await probe(spec.ready)))) return alive();
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

async function probe(ready: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([ready().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function stopServer(profile: ProfileName, name: string, timeoutMs = 15_000): Promise<boolean> {
  const file = pidFilePath(profile, name);
  const record = readPidFile(profile, name);
  if (!record) return false;
  if (!isAlive(record)) {
    rmSync(file, { force: true });
    return false;
  }
  signal(record.pid, record.stopSignal);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record) && Date.now() < deadline) await sleep(50);
  // SIGKILL whatever is left in its process group: the leader if it ignored us, or children it left behind.
  signal(-record.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isAlive(record) && Date.now() < killDeadline) await sleep(50);
  rmSync(file, { force: true });
  await waitForFreePort(record.port, PORT_RELEASE_MS);
  return true;
}

export async function listServers(
  profile: ProfileName,
): Promise<Array<{ name: string; pid: number; port: number; running: boolean; log: string }>> {
  const dir = stateDir(profile);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => readPidFile(profile, file.slice(0, -'.pid'.length)))
    .filter((record): record is PidRecord => record !== null)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map((record) => ({
      name: record.name,
      pid: record.pid,
      port: record.port,
      running: isAlive(record),
      log: record.log,
    }));
}

function pidFilePath(profile: ProfileName, name: string): string {
  return join(stateDir(profile), `${name}.pid`);
}

function readPidFile(profile: ProfileName, name: string): PidRecord | null {
  try {
    const record = JSON.parse(readFileSync(pidFilePath(profile, name), 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : null;
  } catch {
    return null;
  }
}

/** Alive, not a zombie, and the same process that was started (pids get reused). */
function isAlive(record: Pick<PidRecord, 'pid' | 'startTime'>): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(record.pid);
  if (!stat) return process.platform !== 'linux';
  if (stat.state === 'Z') return false;
  return record.startTime === null || stat.startTime === record.startTime;
}

function processStartTime(pid: number): string | null {
  return procStat(pid)?.startTime ?? null;
}

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; the command name before them may hold spaces. */
function procStat(pid: number): { state: string; startTime: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return null;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function asUser(user: string, command: string, args: string[]): { command: string; args: string[] } {
  const gid = execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim();
  return { command: 'setpriv', args: [`--reuid=${user}`, `--regid=${gid}`, '--init-groups', '--', command, ...args] };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForFreePort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portIsFree(port))) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/** Nothing answers on the port and it can be bound on 127.0.0.1. */
export async function portIsFree(port: number): Promise<boolean> {
  if (await portAnswers(port)) return false;
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// One ensureRunning per server at a time: in this process (a promise chain) and across processes
// (an exclusive lock file), so two invocations never start the same server twice.
const chains = new Map<string, Promise<unknown>>();

async function withLock<T>(profile: ProfileName, name: string, task: () => Promise<T>): Promise<T> {
  const key = `${profile}/${name}`;
  const previous = chains.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withLockFile(join(stateDir(profile), `${name}.lock`), task));
  chains.set(key, run);
  try {
    return await run;
  } finally {
    if (chains.get(key) === run) chains.delete(key);
  }
}

async function withLockFile<T>(file: string, task: () => Promise<T>): Promise<T> {
  mkdirSync(join(file, '..'), { recursive: true });
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLockHolder(file);
      if (holder !== null && !isAlive({ pid: holder, startTime: null })) rmSync(file, { force: true });
      else await sleep(POLL_MS);
    }
  }
  try {
    return await task();
  } finally {
    rmSync(file, { force: true });
  }
}

/** The pid in a lock file; null while it is being written or already gone. */
function readLockHolder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
