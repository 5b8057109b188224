/**
 * The local stack's gateway as nginx from Debian (its configuration rendered from the route table,
 * see gateway/nginx-config.ts), run as the project's own process in the foreground.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAptPackages } from '../apt.js';
import { renderNginxConfig, type NginxGatewayOptions } from '../gateway/nginx-config.js';
import { stateDir } from '../paths.js';
import type { ProfileName } from '../profiles.js';
import { ensureRunning } from '../supervisor.js';

const NGINX = '/usr/sbin/nginx';

/** Installs nginx if missing; returns the executable. */
export async function installNginx(): Promise<string> {
  await ensureAptPackages('nginx', ['nginx']);
  return NGINX;
}

/** Writes the configuration into `dir` (with its temporary directories) and has nginx check it; returns the file. */
export function writeNginxConfig(command: string, options: NginxGatewayOptions): string {
  for (const name of ['client-body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(options.dir, 'temp', name), { recursive: true });
  const file = join(options.dir, 'nginx.conf');
  writeFileSync(file, renderNginxConfig(options));
  // `nginx -t` exits non-zero with the reason on stderr; execFileSync throws it.
  execFileSync(command, ['-t', '-q', '-p', options.dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  return file;
}

/** Starts nginx as the profile's `gateway` on `port`, in front of the services' processes. */
export async function ensureNginxGateway(
  profile: ProfileName,
  options: Omit<NginxGatewayOptions, 'dir'>,
  ready: () => Promise<boolean>,
): Promise<{ pid: number; started: boolean }> {
  const command = await installNginx();
  const dir = join(stateDir(profile), 'nginx');
  const file = writeNginxConfig(command, { ...options, dir });
  return ensureRunning(profile, { name: 'gateway', command, args: ['-p', dir, '-c', file], port: options.port, ready });
}
