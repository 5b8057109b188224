import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding it `input`, and collects what it printed. */
export function run(command: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** kubectl from the locally built control plane, pointed at its kubeconfig. */
export function kubectl(cluster: { binDir: string; kubeconfig: string }, args: string[], input?: string): Promise<CommandResult> {
  return run(join(cluster.binDir, 'kubectl'), ['--kubeconfig', cluster.kubeconfig, ...args], input);
}
