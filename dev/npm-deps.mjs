// Installs the npm dependencies when node_modules is missing or older than package-lock.json.
// Plain JavaScript with no dependencies: it runs before there are any.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/** How to run npm: under `npm test`/`npm start`, npm_execpath names the npm that is running us. */
export function npmCommand() {
  const npmCli = process.env.npm_execpath;
  return npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
}

/** Throws an Error with a one-line message when npm fails. */
export function ensureNpmDeps(root) {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json'); // npm's record of what it installed
  let args;
  if (!existsSync(installed)) args = existsSync(lock) ? ['ci'] : ['install'];
  else if (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs) args = ['install'];
  else return;

  process.stdout.write(
    `${'npm'.padEnd(11)} ${args[0] === 'ci' ? 'node_modules is missing' : 'package-lock.json changed'}: npm ${args[0]} …\n`,
  );
  const [command, prefix] = npmCommand();
  const result = spawnSync(command, [...prefix, ...args, '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, npm_config_loglevel: process.env.npm_config_loglevel ?? 'error' },
  });
  if (result.status !== 0) {
    const why = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
    throw new Error(`npm ${args[0]} failed (${why}); its output is above`);
  }
  const now = new Date();
  utimesSync(installed, now, now); // npm may leave it untouched when nothing changed
}
