#!/usr/bin/env node
// The `quickdeal` CLI entry: installs the npm dependencies if needed, then runs dev/src/cli.ts
// with tsx, resolving workspace packages to their TypeScript sources (the quickdeal-source condition).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNpmDeps } from '../dev/npm-deps.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

try {
  ensureNpmDeps(root);
} catch (error) {
  console.error(`quickdeal: ${error.message}`);
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--conditions=quickdeal-source',
    '--disable-warning=TimeoutNegativeWarning', // kafkajs 2.2.4 on Node 24, harmless (tulios/kafkajs#1751)
    '--import',
    import.meta.resolve('tsx'),
    join(root, 'dev/src/cli.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
// The CLI decides what a signal means (stop what `up` started); a repeated one is harmless there.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
// `npm start` runs us under `sh -c`, which dies on SIGTERM without passing it on: treat losing
// our parent like a SIGTERM, so `up` still stops what it started.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill('SIGTERM');
}, 1_000).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
