import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RunOptions {
  log: string; // stdout and stderr are appended here
  env?: Record<string, string>;
  cwd?: string;
}

/** Runs a command to completion with its output appended to a log file; resolves to its exit code (127 if it could not start). */
export function runLogged(command: string, args: string[], options: RunOptions): Promise<number> {
  mkdirSync(dirname(options.log), { recursive: true });
  const fd = openSync(options.log, 'a');
  writeSync(fd, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    closeSync(fd);
    child.on('error', (error) => {
      const out = openSync(options.log, 'a');
      writeSync(out, `${error.message}\n`);
      closeSync(out);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
