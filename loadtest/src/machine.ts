import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** The facts of the machine a figure was measured on, so figures from different machines are not compared blindly. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverage: number[];
  commit: string;
}

export function machineFacts(): MachineFacts {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += ' + uncommitted changes';
  } catch {
    // not a git checkout
  }
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    commit,
  };
}

export function describeMachine(m: MachineFacts): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}, load average ${m.loadAverage.join(' ')} at the start, commit ${m.commit}`;
}

const resultsHeader = `# QuickDeal load test and benchmark results

Appended by \`npm run bench\` and \`npm run loadtest -- --record\`, newest last. Every figure was
measured with the whole stack (Kafka, Redis, Postgres, the services, the gateway) and the load
generator on the one machine named in its section, so compare ratios across machines, not
absolute numbers. See loadtest/README.md for how to read them.
`;

/** Appends a section to RESULTS.md, creating the file with its header when missing. */
export function appendResults(file: string, section: string): void {
  if (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') writeFileSync(file, resultsHeader);
  appendFileSync(file, `\n${section.trim()}\n`);
}
