/**
 * The repository's Dockerfile built into OCI images with buildah, one per deployable, on the local
 * base (./base-image.ts). `--layers` caches each instruction, so the stages the four targets share
 * (npm ci, the TypeScript build, the production dependencies) are built once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { report, secondsSince } from '../report.js';
import { ensureBaseImage } from './base-image.js';
import { buildah, ensureImageTools, imageSize, imagesDir } from './buildah.js';

export const IMAGE_TARGETS = ['ticketing', 'admission', 'payment', 'operator'] as const;
export type ImageTarget = (typeof IMAGE_TARGETS)[number];

export const imageName = (target: ImageTarget): string => `localhost/quickdeal/${target}:dev`;

export interface BuiltImage {
  target: ImageTarget;
  image: string;
  size: number; // bytes, layers uncompressed
}

/** Builds the given targets of the Dockerfile (all four by default); returns each image with its size. */
export async function buildImages(targets: readonly ImageTarget[] = IMAGE_TARGETS): Promise<BuiltImage[]> {
  await ensureImageTools();
  const base = await ensureBaseImage();
  const built: BuiltImage[] = [];
  for (const target of targets) {
    const started = Date.now();
    const image = imageName(target);
    report('images', `building ${image} (buildah bud --target ${target}) …`);
    await buildah(
      [
        'bud',
        '--layers',
        '--pull=never', // the base is local; no registry is reachable
        '--build-arg',
        `NODE_IMAGE=${base}`,
        ...hostCaVolumes(),
        '--target',
        target,
        '--tag',
        image,
        '--file',
        join(repoRoot, 'Dockerfile'),
        repoRoot,
      ],
      `building the ${target} image`,
    );
    const size = await imageSize(image);
    report('images', `${image} built in ${secondsSince(started)}, ${formatMegabytes(size)}`);
    built.push({ target, image, size });
  }
  return built;
}

/**
 * Where the host's npm trusts a CA of its own (a network that intercepts TLS, as this machine's
 * egress does), `npm ci` in the build needs it too: the CA file and a global npmrc naming it are
 * mounted into the build's RUN steps only (`--volume`), so no image carries them.
 */
function hostCaVolumes(): string[] {
  const configured = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
  const cafile = [configured, process.env.NODE_EXTRA_CA_CERTS].find(
    (file) => file && file !== 'null' && file !== 'undefined' && existsSync(file),
  );
  if (!cafile) return [];
  const inBuild = '/usr/local/etc/quickdeal-build-ca.crt';
  const npmrc = join(imagesDir, 'build-npmrc');
  mkdirSync(imagesDir, { recursive: true });
  writeFileSync(npmrc, `cafile=${inBuild}\n`);
  return ['--volume', `${cafile}:${inBuild}:ro`, '--volume', `${npmrc}:/usr/local/etc/npmrc:ro`];
}

export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(0)} MB`;
}
