/** Redis from Debian's redis-server, run as the project's own process with an append-only file. */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ensureAptPackages } from '../apt.js';
import { stateDir } from '../paths.js';
import { profile, type ProfileName } from '../profiles.js';
import { report, secondsSince } from '../report.js';
import { ensureRunning } from '../supervisor.js';

const REDIS_SERVER = '/usr/bin/redis-server';

/** Installs redis-server if missing; returns the executable. */
export async function installRedis(): Promise<string> {
  await ensureAptPackages('redis', ['redis-server']);
  return REDIS_SERVER;
}

export async function ensureRedis(name: ProfileName): Promise<{ pid: number; started: boolean }> {
  const command = await installRedis();
  const port = profile(name).ports.redis;
  const dir = join(stateDir(name), 'redis');
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const result = await ensureRunning(name, {
    name: 'redis',
    command,
    args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
    port,
    ready: () => answersPing(port), // a Redis still loading its AOF answers -LOADING
  });
  report(
    'redis',
    result.started
      ? `started on 127.0.0.1:${port} in ${secondsSince(started)} (pid ${result.pid})`
      : `already running on 127.0.0.1:${port} (pid ${result.pid})`,
  );
  return result;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
