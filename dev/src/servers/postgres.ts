/**
 * PostgreSQL 15 from Debian, as the project's own cluster: initdb'd into <state>/postgres, run as
 * the postgres user on 127.0.0.1 and a socket directory of its own, with role and database `quickdeal`,
 * migrated (what the chart's hook Job does before an install), so the operator finds its tables.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { ensureAptPackages } from '../apt.js';
import { SetupError } from '../errors.js';
import { logPath, repoRoot, stateDir } from '../paths.js';
import { endpoints, profile, type ProfileName } from '../profiles.js';
import { report, secondsSince } from '../report.js';
import { runLogged } from '../run.js';
import { ensureRunning, stopServer } from '../supervisor.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

/** Installs PostgreSQL 15 if its binaries are missing; returns their directory. */
export async function installPostgres(): Promise<string> {
  if (!existsSync(join(PG_BIN, 'postgres'))) await ensureAptPackages('postgres', ['postgresql-15']);
  return PG_BIN;
}

export async function ensurePostgres(name: ProfileName): Promise<{ pid: number; started: boolean }> {
  const bin = await installPostgres();
  const port = profile(name).ports.postgres;
  const dataDir = join(stateDir(name), 'postgres');
  const socketDir = join(stateDir(name), 'postgres-socket');
  const log = logPath(name, 'postgres');
  ensureTraversable(stateDir(name));

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true }); // what a failed initdb left behind
    ownedDirectory(dataDir);
    report('postgres', `initdb ${dataDir}`);
    const code = await runLogged(
      'runuser',
      [
        '-u',
        OS_USER,
        '--',
        join(bin, 'initdb'),
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ],
      { log },
    );
    if (code !== 0) throw new SetupError(`postgres: initdb failed with exit code ${code} (log: ${log})`);
  }
  ownedDirectory(socketDir); // 0700: only postgres (and root) reach the trusted local socket

  const started = Date.now();
  const durability = name === 'test' ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [];
  const result = await ensureRunning(name, {
    name: 'postgres',
    command: join(bin, 'postgres'),
    args: [
      '-D',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${port}`,
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'max_connections=200',
      ...durability,
    ],
    user: OS_USER,
    port,
    stopSignal: 'SIGINT', // fast shutdown; SIGTERM would wait for every client to disconnect
    ready: () => superuserQuery(socketDir, port, 'SELECT 1').then(() => true),
  });
  try {
    await createRoleAndDatabase(socketDir, port);
  } catch (error) {
    if (result.started) await stopServer(name, 'postgres');
    throw new SetupError(`postgres: creating role and database quickdeal failed: ${(error as Error).message} (log: ${log})`);
  }
  try {
    await migrate(name);
  } catch (error) {
    if (result.started) await stopServer(name, 'postgres');
    throw new SetupError(`postgres: migrating database quickdeal failed: ${(error as Error).message} (log: ${log})`);
  }
  report(
    'postgres',
    result.started
      ? `started on 127.0.0.1:${port} in ${secondsSince(started)} (pid ${result.pid})`
      : `already running on 127.0.0.1:${port} (pid ${result.pid})`,
  );
  return result;
}

/**
 * The operator's `migrate` command, as the chart's hook Job runs it (nothing to do when up to date),
 * in a process of its own: this module is loaded where workspace packages do not resolve (vitest's globalSetup).
 */
async function migrate(name: ProfileName): Promise<void> {
  const log = logPath(name, 'migrate');
  const entry = join(repoRoot, 'operator', 'src', 'main.ts');
  const code = await runLogged(process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', entry, 'migrate'], {
    log,
    cwd: repoRoot,
    env: { DATABASE_URL: endpoints(name).postgresUrl, LOG_LEVEL: 'warn' },
  });
  if (code !== 0) throw new Error(`the migrate command exited with ${code} (log: ${log})`);
}

async function createRoleAndDatabase(socketDir: string, port: number): Promise<void> {
  await superuserQuery(
    socketDir,
    port,
    `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'quickdeal') THEN
      CREATE ROLE quickdeal LOGIN PASSWORD 'quickdeal';
    END IF;
  END $$`,
  );
  const { rowCount } = await superuserQuery(socketDir, port, "SELECT 1 FROM pg_database WHERE datname = 'quickdeal'");
  if (rowCount === 0) {
    await superuserQuery(socketDir, port, 'CREATE DATABASE quickdeal OWNER quickdeal').catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error; // created meanwhile by a concurrent setup
    });
  }
}

/** One statement as the superuser over the cluster's own unix socket (trusted, reachable only by postgres and root). */
async function superuserQuery(socketDir: string, port: number, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
  client.on('error', () => undefined); // a server shutting down must not crash the CLI
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A 0700 directory owned by postgres (initdb refuses root, and refuses a directory it does not own). */
function ownedDirectory(dir: string): void {
  execFileSync('install', ['-d', '-o', OS_USER, '-g', OS_USER, '-m', '700', dir]);
}

/** The postgres user must be able to walk down to its directories: add o+x where an ancestor lacks it. */
function ensureTraversable(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ancestors: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    ancestors.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const ancestor of ancestors) {
    const { mode } = statSync(ancestor);
    if ((mode & 0o001) === 0) {
      chmodSync(ancestor, mode | 0o001);
      report('postgres', `chmod o+x ${ancestor} so the postgres user can reach its data directory`);
    }
  }
}
