/**
 * Runs a built image as Kubernetes runs the chart's pods, without a container engine: the image is
 * exported as an OCI layout (buildah push oci:), unpacked into a runtime bundle with umoci (its
 * config.json made from the image's user, entry point, environment and working directory) and
 * started with runc, the OCI runtime containerd uses. The chart's securityContext is applied: a
 * read-only root filesystem with a tmpfs on /tmp (the chart's emptyDir), every capability dropped,
 * no privilege escalation. The container shares the host's network (hostNetwork), so it reaches
 * the test profile's servers on 127.0.0.1.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SetupError } from '../errors.js';
import { buildah, imagesDir } from './buildah.js';

const RUNC_ROOT = join(imagesDir, 'runc');
const run = promisify(execFile);

export interface Bundle {
  home: string; // the OCI layout, the bundle and the mounted files, removed by removeBundle
  dir: string; // <dir>/config.json and <dir>/rootfs
}

/** Exports `image` as an OCI layout and unpacks it into a fresh runtime bundle named `name`. */
export async function unpackImage(image: string, name: string): Promise<Bundle> {
  const dir = join(imagesDir, 'bundles', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const layout = join(dir, 'oci');
  // Uncompressed: the layout is unpacked at once, and compressing 400 MB costs a minute.
  await buildah(['push', '--disable-compression', image, `oci:${layout}:latest`], `exporting ${image} as an OCI layout`);
  const bundle = join(dir, 'bundle');
  try {
    await run('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  } catch (error) {
    throw new SetupError(
      `images: umoci unpack ${image} failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
    );
  }
  return { home: dir, dir: bundle };
}

export function removeBundle(bundle: Bundle): void {
  rmSync(bundle.home, { recursive: true, force: true });
}

export interface RunOptions {
  id: string; // the container's name for runc
  env?: Record<string, string>; // added to the image's environment (the pod's env)
  files?: Record<string, string>; // container path → host file, mounted read-only and world-readable as a Secret volume projects it
}

export interface RunningContainer {
  id: string;
  output: () => string;
  exited: Promise<number | null>;
  /** The host pid of the container's first process (its entry point). */
  pid: () => Promise<number>;
  /** Runs a command in the container as its process user; resolves to the exit code and output. */
  exec: (args: string[]) => Promise<{ code: number; output: string }>;
  signal: (signal: NodeJS.Signals) => void;
  /** Kills what is left and deletes the container. */
  remove: () => Promise<void>;
}

/** What the bundle's config.json becomes: the chart's securityContext and the pod's env, volumes and network. */
function podSpec(config: RuntimeSpec, options: RunOptions, files: Record<string, string>): RuntimeSpec {
  const env = new Map(config.process.env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const));
  for (const [name, value] of Object.entries(options.env ?? {})) env.set(name, `${name}=${value}`);
  const none: string[] = [];
  return {
    ...config,
    root: { ...config.root, readonly: true }, // readOnlyRootFilesystem: true
    process: {
      ...config.process,
      terminal: false,
      env: [...env.values()],
      noNewPrivileges: true, // allowPrivilegeEscalation: false
      capabilities: { bounding: none, effective: none, permitted: none, inheritable: none, ambient: none }, // drop: [ALL]
    },
    mounts: [
      ...config.mounts,
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=64m'] },
      ...Object.entries(files).map(([destination, source]) => ({
        destination,
        type: 'bind',
        source,
        options: ['bind', 'ro'],
      })),
    ],
    linux: { ...config.linux, namespaces: config.linux.namespaces.filter((namespace) => namespace.type !== 'network') },
  };
}

interface RuntimeSpec {
  root: { path: string; readonly?: boolean };
  process: { env: string[]; user: { uid: number; gid: number }; [key: string]: unknown };
  mounts: Array<{ destination: string; type: string; source: string; options?: string[] }>;
  linux: { namespaces: Array<{ type: string }>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Starts the bundle's entry point with runc; the container lives until it exits or `remove()`. */
export function runContainer(bundle: Bundle, options: RunOptions): RunningContainer {
  const configFile = join(bundle.dir, 'config.json');
  // Copies with mode 0444 (a Secret volume's default 0644, read-only): the host's may be root's alone, and the container runs as uid 1000.
  const files: Record<string, string> = {};
  mkdirSync(join(bundle.home, 'files'), { recursive: true });
  for (const [index, [destination, source]] of Object.entries(options.files ?? {}).entries()) {
    files[destination] = join(bundle.home, 'files', String(index));
    copyFileSync(source, files[destination]);
    chmodSync(files[destination], 0o444);
  }
  const config = podSpec(JSON.parse(readFileSync(configFile, 'utf8')) as RuntimeSpec, options, files);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  mkdirSync(RUNC_ROOT, { recursive: true });
  const runc = (args: string[]) => ['--root', RUNC_ROOT, ...args];

  const child = spawn('runc', runc(['run', '--bundle', bundle.dir, options.id]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      output += `${error.message}\n`;
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });

  return {
    id: options.id,
    output: () => output,
    exited,
    async pid() {
      const { stdout } = await run('runc', runc(['state', options.id]));
      return (JSON.parse(stdout) as { pid: number }).pid;
    },
    async exec(args) {
      const { uid, gid } = config.process.user;
      try {
        const { stdout, stderr } = await run('runc', runc(['exec', '--user', `${uid}:${gid}`, options.id, ...args]));
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
      }
    },
    signal(signal) {
      child.kill(signal); // runc run passes the signals it gets on to the container's first process
    },
    async remove() {
      await run('runc', runc(['delete', '--force', options.id])).catch(() => undefined);
      await exited;
    },
  };
}
