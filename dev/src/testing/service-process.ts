/** A service's main.ts started as its own process, as tests that kill or signal a real process need it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { repoRoot } from '../paths.js';

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

/** Starts `services/<service>/src/main.ts` on a free port; resolves once it listens. `running` collects the child for clean-up. */
export async function startServiceProcess(
  service: string,
  env: Record<string, string>,
  running: ChildProcess[] = [],
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', `services/${service}/src/main.ts`], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry.port);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`${service} exited with ${code}: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

/** kill -9, and waits until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
