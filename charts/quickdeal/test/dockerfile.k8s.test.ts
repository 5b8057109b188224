/**
 * The Dockerfile, without a Docker engine: what it copies exists in the build context (and gets
 * past .dockerignore), it is multi-stage on Node 24 LTS with a non-root numeric user and no
 * HEALTHCHECK, and — built for real by carrying out its stages on this machine (npm ci, the
 * TypeScript build, npm ci --omit=dev) — each image's ENTRYPOINT is a file the build produced,
 * started with node from the image's filesystem it answers /healthz and /readyz against the test
 * Kafka, Redis, Postgres and API server, writes nothing outside /tmp, and stops cleanly on SIGTERM.
 * In the kubernetes project because the operator's image needs an API server.
 */
import { lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '@quickdeal/dev/paths';
import { freePort, startProcess, waitForHttp } from '@quickdeal/dev/testing';
import { clients, createNamespace, deleteNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';
import {
  dockerBuilder,
  dockerignore,
  effective,
  execForm,
  parseDockerfile,
  splitFlags,
  stageByName,
  type BuiltStage,
} from './support/dockerfile.js';
import { imageEnv } from './support/image-env.js';

const cluster = inject('kubernetes');
const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const targets = ['ticketing', 'admission', 'payment', 'operator'] as const;
const expectedEntrypoints = {
  ticketing: 'services/ticketing/dist/main.js',
  admission: 'services/admission/dist/main.js',
  payment: 'services/payment/dist/main.js',
  operator: 'operator/dist/main.js',
};

describe('Dockerfile, as written', () => {
  it('builds every deployable on Node 24 LTS in stages, as a non-root user, with no HEALTHCHECK', () => {
    expect(dockerfile.globalArgs.NODE_IMAGE).toMatch(/^node:24(\.\d+)*(-slim|-alpine|-bookworm-slim)?$/);
    expect(dockerfile.stages.length).toBeGreaterThan(2);
    for (const target of targets) {
      const stage = stageByName(dockerfile, target);
      expect(stage, target).toBeDefined();
      if (!stage) continue;
      const user = effective(dockerfile, stage, 'USER')?.args ?? '';
      expect(user, `${target} runs as`).toMatch(/^[1-9]\d*(:\d+)?$/); // numeric, so runAsNonRoot can check it
      const entrypoint = effective(dockerfile, stage, 'ENTRYPOINT');
      expect(entrypoint && execForm(entrypoint), target).toEqual(['node', expectedEntrypoints[target]]);
    }
    expect(dockerfile.stages.flatMap((stage) => stage.instructions).filter((i) => i.keyword === 'HEALTHCHECK')).toEqual([]);
  });

  it('copies only files that exist in the build context and that .dockerignore lets through', () => {
    const ignored = dockerignore(repoRoot);
    const sources = dockerfile.stages
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'COPY')
      .map((instruction) => splitFlags(instruction.args))
      .filter(({ flags }) => !flags.from)
      .flatMap(({ words }) => words.slice(0, -1));
    expect(sources.length).toBeGreaterThan(10);
    for (const source of sources) {
      expect(() => statSync(join(repoRoot, source)), source).not.toThrow();
      expect(ignored(source), `${source} is excluded by .dockerignore`).toBe(false);
    }
    // Every workspace's manifest is copied before npm ci, or npm ci refuses the lockfile.
    const workspaces = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    for (const workspace of workspaces) expect(sources).toContain(`${workspace}/package.json`);
    // And nothing that only the repository needs gets in.
    for (const path of [
      'node_modules/typescript/package.json',
      '.quickdeal',
      'services/core/dist/index.js',
      'services/core/test',
      'dev/src/cli.ts',
      'charts/quickdeal/values.yaml',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

describe('Dockerfile, built', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'qd-image-'));
  const images = new Map<string, BuiltStage>();
  const running: Array<{ child: { kill: (signal: NodeJS.Signals) => boolean } }> = [];
  let api: Clients;
  let namespace: string;
  let keyDir: string;

  beforeAll(async () => {
    api = clients(cluster);
    namespace = await createNamespace(api, 'qd-image');
    const builder = dockerBuilder(dockerfile, {
      contextDir: repoRoot,
      outDir,
      // Offline when npm's cache has everything (it does after the repository's own npm ci).
      env: { npm_config_prefer_offline: 'true', npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
    });
    for (const target of targets) images.set(target, await builder.build(target));
    keyDir = mkdtempSync(join(tmpdir(), 'qd-image-keys-'));
  }, 600_000);

  afterAll(async () => {
    for (const process of running) process.child.kill('SIGKILL');
    rmSync(outDir, { recursive: true, force: true });
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    if (namespace) await deleteNamespace(api, namespace);
  });

  it('produces each ENTRYPOINT with `npm run build`, next to production dependencies only', () => {
    for (const target of targets) {
      const image = images.get(target);
      if (!image) throw new Error(`${target} was not built`);
      const entrypoint = execForm(effective(dockerfile, image.stage, 'ENTRYPOINT') ?? { keyword: 'ENTRYPOINT', args: '[]', line: 0 });
      const file = join(image.root, image.workdir, entrypoint[1] ?? '');
      expect(statSync(file).isFile(), `${target}: ${entrypoint[1]}`).toBe(true);
      expect(image.env.NODE_ENV, target).toBe('production');
    }
    const app = join(images.get('ticketing')?.root ?? '', '/app');
    const modules = readdirSync(join(app, 'node_modules'));
    for (const tool of ['typescript', 'vitest', 'eslint', 'tsx']) expect(modules, `${tool} is a dev dependency`).not.toContain(tool);
    // Workspace packages are links to their folders, which hold dist/ and no sources.
    const core = realpathSync(join(app, 'node_modules', '@quickdeal', 'core'));
    expect(relative(app, core)).toBe('services/core');
    expect(readdirSync(core).sort()).toEqual(['dist', 'package.json']);
    expect(lstatSync(join(app, 'node_modules', '@quickdeal', 'core')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(app, 'services', 'ticketing', 'public'))).toContain('room.js');
  });

  it.each(targets)(
    '%s starts from its ENTRYPOINT with node, answers its probes, writes nothing outside /tmp and stops on SIGTERM',
    async (target) => {
      const image = images.get(target);
      if (!image) throw new Error(`${target} was not built`);
      const [command, ...args] = execForm(
        effective(dockerfile, image.stage, 'ENTRYPOINT') ?? { keyword: 'ENTRYPOINT', args: '[]', line: 0 },
      );
      expect(command).toBe('node');
      const workdir = join(image.root, image.workdir);
      const before = snapshot(image.root);
      const port = await freePort();
      // As in the container: no loader options, a home that cannot be written, the image's own ENV.
      const env = {
        ...image.env,
        ...(await imageEnv(target, { keyDir, kubeconfig: cluster.kubeconfig, namespace })),
        PORT: String(port),
        HOST: '127.0.0.1',
        HOME: '/nonexistent',
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: '',
      };
      const started = startProcess(
        process.execPath,
        args.map((arg) => (arg.endsWith('.js') ? join(workdir, arg) : arg)),
        env,
      );
      running.push(started);
      let alive = true;
      void started.exited.then(() => (alive = false));
      try {
        await waitForHttp(`http://127.0.0.1:${port}/healthz`, `${target} /healthz`, () => alive, 60_000);
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, `${target} /readyz`, () => alive, 60_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${started.output()}`);
      }
      started.child.kill('SIGTERM');
      expect(await started.exited, `${target} exit code\n${started.output()}`).toBe(0);
      expect(snapshot(image.root)).toEqual(before);
    },
    120_000,
  );
});

/** Every path under the image's filesystem with its size and modification time. */
function snapshot(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      entries[relative(root, path)] = `${stat.size}:${stat.mtimeMs}`;
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return entries;
}
