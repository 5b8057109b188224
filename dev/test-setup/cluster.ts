/**
 * vitest globalSetup of the `cluster` project: the whole `cluster` profile (three Kafka brokers,
 * a six-node Redis Cluster, Postgres, two processes of each service and the gateway), started by
 * the CLI exactly as a person starts it: `quickdeal up -d --profile cluster`. It stays running, so
 * the next run starts in seconds; `quickdeal down --profile cluster` stops it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/paths.js';
import { recordSetupFailure } from './setup-failure.js';

export default async function setup(): Promise<void> {
  await recordSetupFailure(async () => {
    const started = Date.now();
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'quickdeal.mjs'), 'up', '-d', '--profile', 'cluster'], {
        cwd: repoRoot,
        env: { ...process.env, QUICKDEAL_QUIET: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0)
      throw new Error(`quickdeal up -d --profile cluster exited with ${code}: ${output.join('').trim().split('\n').slice(-3).join(' ')}`);
    console.log(`cluster profile up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
