/**
 * The local stack as a whole: the infrastructure servers a profile needs, and stopping everything.
 * `@quickdeal/dev/stack` for the load tester and the tests that start or stop a server themselves.
 * It imports no workspace package: vitest's globalSetup loads it without the quickdeal-source condition.
 */
import { endpoints, type ProfileName } from './profiles.js';
import { ensureKafka } from './servers/kafka.js';
import { ensurePostgres } from './servers/postgres.js';
import { ensureRedis } from './servers/redis.js';
import { listServers, stopServer } from './supervisor.js';

export { ensureKafka, ensurePostgres, ensureRedis, listServers, stopServer };
export { installPrometheus } from './servers/prometheus.js';
export { installWrk } from './servers/wrk.js';

export type Endpoints = ReturnType<typeof endpoints>;

interface Started {
  started: boolean;
  servers?: string[]; // the supervisor's names when the server runs as several nodes
}

const INFRA: ReadonlyArray<{ name: string; ensure: (profile: ProfileName) => Promise<Started> }> = [
  { name: 'kafka', ensure: ensureKafka },
  { name: 'redis', ensure: ensureRedis },
  { name: 'postgres', ensure: ensurePostgres },
];

/**
 * Installs what is missing and starts Kafka, Redis and Postgres in parallel (or finds them running).
 * If one fails, stops the ones this call started and rethrows that failure: nothing half-started.
 */
export async function ensureInfra(profile: ProfileName): Promise<Endpoints> {
  const results = await Promise.allSettled(INFRA.map((server) => server.ensure(profile)));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(
      INFRA.map(async (server, i) => {
        const result = results[i];
        if (result?.status !== 'fulfilled' || !result.value.started) return;
        for (const name of result.value.servers ?? [server.name]) await stopServer(profile, name);
      }),
    );
    throw failure.reason;
  }
  return endpoints(profile);
}

/**
 * Stops every server the profile's pid files name (services, infrastructure, anything another part
 * of dev/ started), newest first so the services stop before what they depend on.
 */
export async function stopAll(profile: ProfileName): Promise<Array<{ name: string; pid: number }>> {
  const servers = (await listServers(profile)).reverse();
  const stopped: Array<{ name: string; pid: number }> = [];
  for (const server of servers) {
    if (await stopServer(profile, server.name)) stopped.push({ name: server.name, pid: server.pid });
  }
  return stopped;
}
