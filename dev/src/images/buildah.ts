/**
 * buildah (Debian's) with QuickDeal's own image store under <cache>/images, and chroot isolation for
 * RUN, which needs no OCI runtime. The store uses the kernel's overlay filesystem where it has one
 * (a layer is a diff: the Dockerfile's ~30 instructions build in minutes) and vfs elsewhere (works on
 * any filesystem, but every layer is a full copy: a first build ten times slower). No Docker engine
 * and no registry: the base image is made locally (./base-image.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureAptPackages } from '../apt.js';
import { SetupError } from '../errors.js';
import { cacheDir, installLogPath } from '../paths.js';
import { runLogged } from '../run.js';

/** Everything the image build and its checks use (runc runs a built image as Kubernetes' runtime would). */
export const IMAGE_TOOLS = ['buildah', 'mmdebstrap', 'umoci', 'runc'];

export const imagesDir = join(cacheDir, 'images');
export const buildLog = installLogPath('images');

export const storageDriver = readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n') ? 'overlay' : 'vfs';
const STORE = [
  '--root',
  join(imagesDir, `storage-${storageDriver}`),
  '--runroot',
  join(imagesDir, `run-${storageDriver}`),
  '--storage-driver',
  storageDriver,
];
const ENV = { BUILDAH_ISOLATION: 'chroot' };

export function ensureImageTools(): Promise<void> {
  return ensureAptPackages('images', IMAGE_TOOLS);
}

/** Runs `buildah <args>` with its output appended to the build log; throws a SetupError naming the log on failure. */
export async function buildah(args: string[], what: string): Promise<void> {
  const code = await runLogged('buildah', [...STORE, ...args], { log: buildLog, env: ENV });
  if (code !== 0) throw new SetupError(`images: ${what} failed (buildah exit code ${code}) (log: ${buildLog})`);
}

/** `buildah <args>`'s standard output (for short queries: inspect, images, from). */
export async function buildahOutput(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('buildah', [...STORE, ...args], {
      env: { ...process.env, ...ENV },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new SetupError(`images: buildah ${args[0]} failed: ${stderr || (error as Error).message}`);
  }
}

export async function imageExists(image: string): Promise<boolean> {
  try {
    await promisify(execFile)('buildah', [...STORE, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', image], {
      env: { ...process.env, ...ENV },
    });
    return true;
  } catch {
    return false;
  }
}

/** What the OCI image configuration says (the part a runtime reads: user, entry point, environment, working directory). */
export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
}

interface Inspected {
  OCIv1: { config?: ImageConfig };
  Manifest: string; // JSON; the store keeps layers uncompressed, so their sizes add up to the image's size on disk
}

async function inspect(image: string): Promise<Inspected> {
  return JSON.parse(await buildahOutput(['inspect', '--type', 'image', image])) as Inspected;
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  return (await inspect(image)).OCIv1.config ?? {};
}

/** The image's layers uncompressed, in bytes: what it takes on a node's disk (`docker images` shows this). */
export async function imageSize(image: string): Promise<number> {
  const manifest = JSON.parse((await inspect(image)).Manifest) as { layers: Array<{ size: number }> };
  return manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
}
