/**
 * Redis from Debian's redis-server, run as the project's own processes with an append-only file:
 * one server for most profiles; for a profile with several nodes, a Redis Cluster made with
 * `redis-cli --cluster create` (three primaries with one replica each for six nodes).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureAptPackages } from '../apt.js';
import { SetupError } from '../errors.js';
import { stateDir } from '../paths.js';
import { profile, profileNodes, type ProfileName } from '../profiles.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { report, secondsSince } from '../report.js';
import { ensureRunning } from '../supervisor.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
/**
 * How long a cluster waits before it fails over from a primary that stopped answering. Redis's
 * default is 15 s; two seconds makes a failover take ~3 s while a busy box still does not
 * mistake a slow primary for a dead one.
 */
export const CLUSTER_NODE_TIMEOUT_MS = 2_000;

/** Installs redis-server if missing; returns the executable. */
export async function installRedis(): Promise<string> {
  await ensureAptPackages('redis', ['redis-server']);
  return REDIS_SERVER;
}

/** The supervisor's name for a node: `redis` alone, `redis-1` … `redis-N` in a cluster. */
export function redisServerName(index: number, nodeCount: number): string {
  return nodeCount === 1 ? 'redis' : `redis-${index + 1}`;
}

export async function ensureRedis(name: ProfileName): Promise<{ pid: number; started: boolean; servers: string[] }> {
  const command = await installRedis();
  const nodes = profileNodes(name).redis;
  if (nodes.length === 1) {
    const result = await ensureRedisNode(name, command, 0, 1);
    return { ...result, servers: ['redis'] };
  }
  const started = Date.now();
  const results = await Promise.all(nodes.map((_, i) => ensureRedisNode(name, command, i, nodes.length)));
  await ensureClusterFormed(
    name,
    nodes.map((node) => node.port),
  );
  const servers = nodes.map((_, i) => redisServerName(i, nodes.length));
  report(
    'redis',
    `cluster of ${nodes.length} nodes on 127.0.0.1:${nodes[0]?.port}–${nodes[nodes.length - 1]?.port} ok in ${secondsSince(started)}`,
  );
  return { pid: results[0]!.pid, started: results.some((result) => result.started), servers };
}

/**
 * How long a Redis started on data directory `dir` may take to answer: 30 s, plus a second for
 * every 10 MB of append-only file it loads first (it answers -LOADING until then). A dev profile's
 * log grows with every deal and load test run on it; a fixed 30 s stopped a Redis still loading a
 * large one.
 */
export function redisReadyTimeoutMs(dir: string): number {
  const aofDir = join(dir, 'appendonlydir');
  const bytes = existsSync(aofDir) ? readdirSync(aofDir).reduce((total, file) => total + statSync(join(aofDir, file)).size, 0) : 0;
  return 30_000 + Math.ceil(bytes / 10_000_000) * 1_000;
}

/** A cluster node's bus port is its port plus this: 23340–23345 on the cluster profile (before the offset). */
const CLUSTER_BUS_PORT_SHIFT = 30;

/** Starts (or finds running) node `index` of the profile's Redis; restarting a killed cluster node brings it back as a replica. */
export async function ensureRedisNode(
  name: ProfileName,
  command: string,
  index: number,
  nodeCount: number,
): Promise<{ pid: number; started: boolean }> {
  const port = nodeCount === 1 ? profile(name).ports.redis : profileNodes(name).redis[index]!.port;
  const serverName = redisServerName(index, nodeCount);
  const dir = nodeCount === 1 ? join(stateDir(name), 'redis') : join(stateDir(name), 'redis', `node-${index + 1}`);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const clusterArgs =
    nodeCount === 1
      ? []
      : [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(CLUSTER_NODE_TIMEOUT_MS),
          // The bus port defaults to port + 10000 (33310…), inside Linux's ephemeral range, where any
          // outgoing connection may hold it: a node then fails to start. Keep it in the profile's range.
          '--cluster-port',
          String(port + CLUSTER_BUS_PORT_SHIFT),
          // A deal's keys live in one slot: the other deals keep working while one primary fails over.
          '--cluster-require-full-coverage',
          'no',
        ];
  const result = await ensureRunning(name, {
    name: serverName,
    command,
    args: [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      ...clusterArgs,
    ],
    port,
    ready: () => answersPing(port), // a Redis still loading its AOF answers -LOADING
    readyTimeoutMs: redisReadyTimeoutMs(dir),
  });
  report(
    serverName,
    result.started
      ? `started on 127.0.0.1:${port} in ${secondsSince(started)} (pid ${result.pid})`
      : `already running on 127.0.0.1:${port} (pid ${result.pid})`,
  );
  return result;
}

/** Restarts one stopped node of the profile's Redis (a fault test's node coming back). */
export async function restartRedisNode(name: ProfileName, index: number): Promise<{ pid: number; started: boolean }> {
  return ensureRedisNode(name, await installRedis(), index, profileNodes(name).redis.length);
}

const run = promisify(execFile);

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })).stdout;
}

/** Creates the cluster once (3 primaries + a replica each); waits until every node says cluster_state:ok. */
async function ensureClusterFormed(name: ProfileName, ports: number[]): Promise<void> {
  const known = Number(/cluster_known_nodes:(\d+)/.exec(await cli(ports[0]!, 'CLUSTER', 'INFO'))?.[1] ?? 0);
  if (known < ports.length) {
    try {
      await run(
        REDIS_CLI,
        ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'],
        { timeout: 60_000 },
      );
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new SetupError(
        `redis: redis-cli --cluster create on ports ${ports.join(',')} failed: ${`${stderr}${stdout}`.trim().split('\n').slice(-2).join(' ')}`,
      );
    }
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const states = await Promise.all(ports.map((port) => cli(port, 'CLUSTER', 'INFO').catch(() => '')));
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline)
      throw new SetupError(`redis: the cluster on ports ${ports.join(',')} did not reach cluster_state:ok in 30 s`);
    await sleep(100);
  }
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
