import { endpoints } from '../profiles.js';
import { listServers } from '../supervisor.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

export const status: Command = {
  summary: 'what runs for the profile, on which port, and where its log is',
  usage: 'status',
  async run({ profile }) {
    const servers = await listServers(profile);
    if (servers.length === 0) {
      console.log(`profile ${profile}: nothing running (start it with: quickdeal up${profile === 'dev' ? '' : ` --profile ${profile}`})`);
      return 0;
    }
    console.log(
      formatTable([
        ['NAME', 'STATE', 'PID', 'ADDRESS', 'LOG'],
        ...servers.map((s) => [s.name, s.running ? 'running' : 'dead', String(s.pid), `127.0.0.1:${s.port}`, s.log]),
      ]),
    );
    printEndpoints(profile);
    return servers.every((s) => s.running) ? 0 : 1;
  },
};

export function printEndpoints(profile: Parameters<typeof endpoints>[0]): void {
  const e = endpoints(profile);
  const redis = e.redisClusterNodes ? `cluster ${e.redisClusterNodes.join(',')}` : e.redisUrl;
  console.log(`\nkafka brokers ${e.kafkaBrokers.join(',')}\nredis         ${redis}\npostgres      ${e.postgresUrl}`);
}
