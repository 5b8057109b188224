/**
 * The Dockerfile built for real into OCI images (buildah from Debian: vfs storage, chroot isolation,
 * on a base made here from Debian and the official Node 24 binary, dev/src/images) and each image
 * run as the chart runs its pods: by runc from a bundle umoci unpacked from the exported OCI layout,
 * with a read-only root filesystem, a tmpfs on /tmp, no capabilities and no privilege escalation.
 * Opt-in (`npm run test:images`, QUICKDEAL_IMAGE_TESTS=1): it needs root, and a first build takes
 * several minutes; later runs take the cached layers.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, uniqueName, waitForHttp } from '@quickdeal/dev/testing';
import { clients, createNamespace, deleteNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';
import {
  IMAGE_TARGETS,
  NODE24_VERSION,
  buildImages,
  imageConfig,
  removeBundle,
  runContainer,
  unpackImage,
  type BuiltImage,
} from '@quickdeal/dev/images';
import { imageEnv } from './support/image-env.js';

const cluster = inject('kubernetes');
const ENTRYPOINTS = {
  ticketing: 'services/ticketing/dist/main.js',
  admission: 'services/admission/dist/main.js',
  payment: 'services/payment/dist/main.js',
  operator: 'operator/dist/main.js',
};
/** What a node pulls and stores per image, at most: the base (Debian minbase and Node 24, ~270 MB) and the app. */
const MAX_IMAGE_BYTES = 450_000_000;

const built = new Map<string, BuiltImage>();
let api: Clients;
let namespace: string;
let keyDir: string;

beforeAll(async () => {
  api = clients(cluster);
  namespace = await createNamespace(api, 'qd-images');
  keyDir = mkdtempSync(join(tmpdir(), 'qd-images-keys-'));
  for (const image of await buildImages()) built.set(image.target, image);
}, 2_400_000);

afterAll(async () => {
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  if (namespace) await deleteNamespace(api, namespace);
});

describe.each(IMAGE_TARGETS)('the %s image, built', (target) => {
  it('runs `node <its entry point>` from /app as uid 1000, in production mode, within its size budget', async () => {
    const image = built.get(target)!;
    const config = await imageConfig(image.image);
    expect(config.User).toBe('1000:1000');
    expect(config.Entrypoint).toEqual(['node', ENTRYPOINTS[target]]);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Env).toContain('NODE_ENV=production');
    expect(image.size, `${image.image} is ${image.size} bytes`).toBeLessThan(MAX_IMAGE_BYTES);
  });

  it('starts read-only as uid 1000 with no capabilities, answers its probes, writes only to /tmp and stops on SIGTERM', async () => {
    const image = built.get(target)!;
    const id = uniqueName(`qd-${target}`);
    const bundle = await unpackImage(image.image, id);
    const rootfs = join(bundle.dir, 'rootfs');
    // Production dependencies only: none of the build's tools came along.
    const modules = readdirSync(join(rootfs, 'app', 'node_modules'));
    for (const tool of ['typescript', 'vitest', 'tsx', 'eslint']) expect(modules, `${tool} is a dev dependency`).not.toContain(tool);
    // Nor what only the build needed: the host's CA and npm settings were mounted into its RUN steps only.
    expect(readdirSync(join(rootfs, 'usr', 'local', 'etc'))).toEqual([]);

    // Files the settings name are mounted read-only, as the chart mounts its Secrets.
    const files: Record<string, string> = {};
    const env = await imageEnv(target, { keyDir, kubeconfig: cluster.kubeconfig, namespace });
    for (const [name, value] of Object.entries(env)) {
      if (!name.endsWith('_FILE') && name !== 'KUBECONFIG') continue;
      env[name] = `/etc/quickdeal/${name.toLowerCase()}`;
      files[env[name]] = value;
    }
    const port = await freePort();
    const container = runContainer(bundle, { id, env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, files });
    let alive = true;
    void container.exited.then(() => (alive = false));
    try {
      try {
        await waitForHttp(`http://127.0.0.1:${port}/healthz`, `${target} /healthz`, () => alive, 60_000);
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, `${target} /readyz`, () => alive, 60_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${container.output()}`);
      }
      // The entry point itself, seen from the host: uid and gid 1000, no effective capability, on the image's Node.
      const status = readFileSync(`/proc/${await container.pid()}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(status).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      const version = await container.exec(['node', '--version']);
      expect(version.output.trim()).toBe(`v${NODE24_VERSION}`);

      const write = (path: string) =>
        container.exec([
          'node',
          '-e',
          `try { require('fs').writeFileSync('${path}', 'x'); console.log('written') } catch (e) { console.log(e.code) }`,
        ]);
      expect((await write('/app/probe')).output.trim()).toBe('EROFS');
      expect((await write('/home/node/probe')).output.trim()).toBe('EROFS');
      expect((await write('/tmp/probe')).output.trim()).toBe('written');

      container.signal('SIGTERM');
      expect(await container.exited, `${target} exit code\n${container.output()}`).toBe(0);
    } finally {
      await container.remove();
      removeBundle(bundle);
    }
  });
});
