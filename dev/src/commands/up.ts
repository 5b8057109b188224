import type { ProfileName } from '../profiles.js';
import { startServices } from '../services.js';
import { ensureInfra } from '../stack.js';
import { listServers, stopServer } from '../supervisor.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';
import { printEndpoints } from './status.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const up: Command = {
  summary: 'install what is missing and start the stack; in the foreground Ctrl-C stops what it started',
  usage: 'up [-d]',
  options: { detach: { type: 'boolean', short: 'd' } },
  async run({ profile, values }) {
    const before = await runningPids(profile);
    let interrupted = false;
    let wake = () => {};
    const onSignal = (signal: NodeJS.Signals) => {
      if (!interrupted) console.log(`\n${signal}: stopping what this command started …`);
      interrupted = true; // a second Ctrl-C changes nothing: stopping already ends in SIGKILL
      wake();
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
    try {
      let services: Array<{ name: string; url: string }> = [];
      try {
        await ensureInfra(profile);
        if (!interrupted) services = await startServices(profile);
      } catch (error) {
        await stopStartedSince(profile, before);
        throw error;
      }
      if (interrupted) {
        await stopStartedSince(profile, before);
        return 130;
      }
      await printRunning(profile, before, services);
      if (values.detach) return 0;

      console.log('\nRunning in the foreground: Ctrl-C stops what this command started (quickdeal up -d returns instead).');
      const reported = new Set<string>();
      while (!interrupted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 2_000);
        });
        for (const server of await listServers(profile)) {
          if (!server.running && !reported.has(server.name)) {
            reported.add(server.name);
            console.log(`${server.name} is no longer running (log: ${server.log})`);
          }
        }
      }
      await stopStartedSince(profile, before);
      return 0;
    } finally {
      for (const signal of SIGNALS) process.off(signal, onSignal);
    }
  },
};

async function runningPids(profile: ProfileName): Promise<Map<string, number>> {
  const servers = await listServers(profile);
  return new Map(servers.filter((s) => s.running).map((s) => [s.name, s.pid]));
}

/** Stops, newest first, every server that was not already running (as the same process) before this command. */
async function stopStartedSince(profile: ProfileName, before: Map<string, number>): Promise<void> {
  const servers = (await listServers(profile)).reverse();
  for (const server of servers) {
    if (before.get(server.name) === server.pid) continue;
    if (await stopServer(profile, server.name)) console.log(`stopped ${server.name} (pid ${server.pid})`);
  }
  const kept = servers.filter((s) => before.get(s.name) === s.pid).map((s) => s.name);
  if (kept.length > 0) console.log(`left running (started before this command): ${kept.reverse().join(', ')}`);
}

async function printRunning(
  profile: ProfileName,
  before: Map<string, number>,
  services: Array<{ name: string; url: string }>,
): Promise<void> {
  const urls = new Map(services.map((s) => [s.name, s.url]));
  const servers = await listServers(profile);
  console.log(`\nprofile ${profile}:`);
  console.log(
    formatTable([
      ['NAME', 'STATE', 'PID', 'ADDRESS', 'LOG'],
      ...servers.map((s) => [
        s.name,
        !s.running ? 'dead' : before.get(s.name) === s.pid ? 'was running' : 'started',
        String(s.pid),
        urls.get(s.name) ?? `127.0.0.1:${s.port}`,
        s.log,
      ]),
    ]),
  );
  printEndpoints(profile);
  const links = services.filter((s) => !servers.some((server) => server.name === s.name));
  for (const link of links) console.log(`${link.name.padEnd(13)} ${link.url}`);
}
