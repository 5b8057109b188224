import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logPath, stateDir } from '../src/paths.js';
import { ensureRunning, listServers, type ServerSpec, stopServer, SupervisorError } from '../src/supervisor.js';
import { freePort } from '../src/testing/processes.js';

const PROFILE = 'test';
const names: string[] = [];

/** A unique server name in the test profile, stopped after the tests. */
function serverName(what: string): string {
  const name = `unit-supervisor-${what}-${process.pid}`;
  names.push(name);
  return name;
}

/** A tiny node process: by default a TCP server on `port`, or any other `script`. */
function nodeServer(name: string, port: number, script = `require('node:net').createServer().listen(${port}, '127.0.0.1')`): ServerSpec {
  return { name, command: process.execPath, args: ['-e', script], port, readyTimeoutMs: 10_000 };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  await Promise.all(names.map((name) => stopServer(PROFILE, name)));
});

describe('supervisor', () => {
  it('starts a server, finds it running the second time, restarts it when it died, and stops it', async () => {
    const name = serverName('lifecycle');
    const port = await freePort();
    const spec = nodeServer(name, port);

    const first = await ensureRunning(PROFILE, spec);
    expect(first.started).toBe(true);
    expect(alive(first.pid)).toBe(true);
    expect(await listServers(PROFILE)).toContainEqual({ name, pid: first.pid, port, running: true, log: logPath(PROFILE, name) });

    expect(await ensureRunning(PROFILE, spec)).toEqual({ pid: first.pid, started: false });

    process.kill(first.pid, 'SIGKILL');
    await expect.poll(async () => (await listServers(PROFILE)).find((s) => s.name === name)?.running).toBe(false);
    const restarted = await ensureRunning(PROFILE, spec);
    expect(restarted.started).toBe(true);
    expect(restarted.pid).not.toBe(first.pid);

    expect(await stopServer(PROFILE, name)).toBe(true);
    // gone once this process (its parent) has reaped it, which Node does on its own event loop
    await expect.poll(() => alive(restarted.pid)).toBe(false);
    expect(existsSync(join(stateDir(PROFILE), `${name}.pid`))).toBe(false);
    expect((await listServers(PROFILE)).map((s) => s.name)).not.toContain(name);
    expect(await stopServer(PROFILE, name)).toBe(false);
  });

  it('refuses a port that is taken, in one line naming the server, the port and the log', async () => {
    const name = serverName('port-taken');
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const error = await ensureRunning(PROFILE, nodeServer(name, port)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SupervisorError);
      expect((error as Error).message).toBe(
        `${name}: port ${port} on 127.0.0.1 is already taken by another process; free it or stop that process (log: ${logPath(PROFILE, name)})`,
      );
      expect(existsSync(join(stateDir(PROFILE), `${name}.pid`))).toBe(false);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('reports a server that exits while starting, with its exit code and log', async () => {
    const name = serverName('exits');
    const port = await freePort();
    await expect(ensureRunning(PROFILE, nodeServer(name, port, 'process.exit(3)'))).rejects.toThrow(
      `${name}: exited with code 3 before it was ready (log: ${logPath(PROFILE, name)})`,
    );
    expect(existsSync(join(stateDir(PROFILE), `${name}.pid`))).toBe(false);
  });

  it('stops a server that does not become ready in time', async () => {
    const name = serverName('never-ready');
    const port = await freePort();
    const spec = { ...nodeServer(name, port, 'setInterval(() => {}, 1000)'), readyTimeoutMs: 1_000 };
    await expect(ensureRunning(PROFILE, spec)).rejects.toThrow(`${name}: not ready after 1s, stopped it (log: ${logPath(PROFILE, name)})`);
    expect((await listServers(PROFILE)).map((s) => s.name)).not.toContain(name);
  });
});
