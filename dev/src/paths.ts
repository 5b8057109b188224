import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProfileName } from './profiles.js';

/** The repository's root directory (this file lives in <root>/dev/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Downloads and builds, keyed by version and shared by every profile and clone: outside the repo. */
export const cacheDir = process.env.QUICKDEAL_CACHE ? resolve(process.env.QUICKDEAL_CACHE) : join(homedir(), '.cache', 'quickdeal');

/** A profile's data directories, pid files and logs (.quickdeal/ is gitignored). */
export function stateDir(profile: ProfileName): string {
  return join(repoRoot, '.quickdeal', profile);
}

/** Where a server of a profile writes its stdout and stderr. */
export function logPath(profile: ProfileName, name: string): string {
  return join(stateDir(profile), 'logs', `${name}.log`);
}

/** Where installers (apt, Maven) write their output. */
export function installLogPath(name: string): string {
  return join(cacheDir, 'logs', `${name}-install.log`);
}
