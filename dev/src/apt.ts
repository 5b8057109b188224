/** Installs Debian packages that are missing: `apt-get update` at most once, one install at a time. */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { SetupError } from './errors.js';
import { installLogPath } from './paths.js';
import { report, secondsSince } from './report.js';
import { runLogged } from './run.js';

const LISTS_DIR = '/var/lib/apt/lists';
const LISTS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
const APT_LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

let updated = false;
let queue: Promise<unknown> = Promise.resolve();

export function isInstalled(pkg: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: 'pipe' }).includes('install ok installed');
  } catch {
    return false;
  }
}

/** Installs the packages of `packages` that are not installed yet; `purpose` names them in messages ("redis"). */
export function ensureAptPackages(purpose: string, packages: string[]): Promise<void> {
  const run = queue.catch(() => undefined).then(() => install(purpose, packages));
  queue = run;
  return run;
}

async function install(purpose: string, packages: string[]): Promise<void> {
  const missing = packages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return;
  const log = installLogPath('apt');
  if (process.getuid?.() !== 0) {
    throw new SetupError(
      `${purpose}: needs the Debian packages ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`,
    );
  }
  if (!updated && listsAreStale()) await update(purpose, log);
  const started = Date.now();
  report(purpose, `installing ${missing.join(' ')} from Debian …`);
  const args = ['install', '-y', '--no-install-recommends', ...APT_LOCK_WAIT, ...missing];
  let code = await runLogged('apt-get', args, { log, env: APT_ENV });
  if (code !== 0 && !updated) {
    await update(purpose, log); // stale package lists are the usual cause: refresh once and retry
    code = await runLogged('apt-get', args, { log, env: APT_ENV });
  }
  if (code !== 0) {
    throw new SetupError(`${purpose}: apt-get install ${missing.join(' ')} failed with exit code ${code} (log: ${log})`);
  }
  report(purpose, `installed ${missing.join(' ')} in ${secondsSince(started)}`);
}

async function update(purpose: string, log: string): Promise<void> {
  report(purpose, 'apt-get update …');
  const code = await runLogged('apt-get', ['update', ...APT_LOCK_WAIT], { log, env: APT_ENV });
  if (code !== 0) throw new SetupError(`${purpose}: apt-get update failed with exit code ${code} (log: ${log})`);
  updated = true;
}

/** No package lists yet, or none refreshed within a week. */
function listsAreStale(): boolean {
  try {
    const lists = readdirSync(LISTS_DIR).filter((file) => file.includes('_Packages'));
    const newest = Math.max(0, ...lists.map((file) => statSync(`${LISTS_DIR}/${file}`).mtimeMs));
    return Date.now() - newest > LISTS_MAX_AGE_MS;
  } catch {
    return true;
  }
}
