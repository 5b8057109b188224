/**
 * The official Gateway API CRDs (standard channel) for the chart's tests, from the Go module proxy:
 * the module sigs.k8s.io/gateway-api carries them under config/crd/standard. `go mod download`
 * fetches the module once into a module cache of our own; the YAML files are copied beside it,
 * keyed by version, so later runs read them from ~/.cache/quickdeal without the network.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SetupError } from './errors.js';
import { cacheDir } from './paths.js';
import { report } from './report.js';

/** v1.7 needs a newer Go than the machine's; 1.6.3 is served by the proxy (docs/PLATFORM facts). */
export const gatewayApiVersion = '1.6.3';

/** The directory holding the standard channel's CRD files; downloads them on the first call. */
export async function ensureGatewayApiCrds(): Promise<string> {
  const dir = join(cacheDir, `gateway-api-${gatewayApiVersion}`, 'crd-standard');
  if (existsSync(dir)) return dir;
  const modCache = join(cacheDir, 'go-mod');
  const started = Date.now();
  let moduleDir: string;
  try {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', `sigs.k8s.io/gateway-api@v${gatewayApiVersion}`], {
      env: { ...process.env, GOMODCACHE: modCache, GOFLAGS: '-modcacherw', GO111MODULE: 'on' },
      cwd: cacheDir,
    });
    moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  } catch (error) {
    throw new SetupError(`gateway-api: go mod download failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const source = join(moduleDir, 'config', 'crd', 'standard');
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of readdirSync(source).filter((name) => name.endsWith('.yaml'))) copyFileSync(join(source, file), join(staging, file));
  renameSync(staging, dir);
  report('gateway-api', `CRDs v${gatewayApiVersion} cached in ${dir} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return dir;
}
