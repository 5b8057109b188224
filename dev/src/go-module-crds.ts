/**
 * CRD files that a project ships inside its Go module, fetched from the Go module proxy: `go mod
 * download` fetches the module once into a module cache of our own, and the YAML files of one of
 * its directories are copied beside it, keyed by name and version, so later runs read them from
 * ~/.cache/quickdeal without the network.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SetupError } from './errors.js';
import { cacheDir } from './paths.js';
import { report } from './report.js';

export interface GoModuleCrds {
  /** What the cache directory and the messages call it, e.g. `gateway-api`. */
  name: string;
  module: string;
  version: string;
  /** The directory of the YAML files inside the module, e.g. `config/crd/standard`. */
  directory: string;
  /** Only these files of it (all YAML files when unset). */
  files?: string[];
}

/** The directory holding the CRD files; downloads them on the first call. */
export async function ensureGoModuleCrds(crds: GoModuleCrds): Promise<string> {
  const dir = join(cacheDir, `${crds.name}-${crds.version}`, crds.directory.split('/').slice(1).join('-'));
  if (existsSync(dir)) return dir;
  const modCache = join(cacheDir, 'go-mod');
  const started = Date.now();
  let moduleDir: string;
  try {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', `${crds.module}@v${crds.version}`], {
      env: { ...process.env, GOMODCACHE: modCache, GOFLAGS: '-modcacherw', GO111MODULE: 'on' },
      cwd: cacheDir,
    });
    moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  } catch (error) {
    throw new SetupError(`${crds.name}: go mod download failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const source = join(moduleDir, ...crds.directory.split('/'));
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of readdirSync(source).filter((name) => (crds.files ? crds.files.includes(name) : name.endsWith('.yaml'))))
    copyFileSync(join(source, file), join(staging, file));
  renameSync(staging, dir);
  report(crds.name, `CRDs v${crds.version} cached in ${dir} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return dir;
}
