/**
 * The local stack the load test and the benchmark run against: found running, or started here
 * (and then stopped again at the end, unless asked to keep it), with dev/'s own code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, type Kafka } from 'kafkajs';
import {
  DealStore,
  connectDatabase,
  connectRedis,
  createKafka,
  redisTopologyFromEnv,
  type Database,
  type RedisClient,
} from '@quickdeal/core';
import type { Kysely } from 'kysely';
import { endpoints, profile as profileOf, type ProfileName } from '@quickdeal/dev/profiles';
import { startServices } from '@quickdeal/dev/services';
import { ensureInfra, listServers, stopServer } from '@quickdeal/dev/stack';

export interface Stack {
  profile: ProfileName;
  /** Pids of the running servers of the profile by name (ticketing, redis, postgres, …). */
  pids(): Promise<Map<string, number>>;
  gatewayUrl: string;
  ticketingUrl: string;
  paymentUrl: string;
  /** The servers this command started (stopped by `stop`). */
  started: string[];
  processes(): Promise<Array<{ name: string; pid: number }>>;
  stop(): Promise<void>;
}

/** The profile's servers that are running, by name. */
async function running(profile: ProfileName): Promise<Array<{ name: string; pid: number }>> {
  return (await listServers(profile)).filter((s) => s.running).map((s) => ({ name: s.name, pid: s.pid }));
}

const pidsByName = async (profile: ProfileName) => new Map((await running(profile)).map((s) => [s.name, s.pid]));

export async function ensureStack(profile: ProfileName, log: (line: string) => void): Promise<Stack> {
  const before = await pidsByName(profile);
  log(`stack: making sure the ${profile} profile runs (Kafka, Redis, Postgres, payment, ticketing, admission, gateway) …`);
  await ensureInfra(profile);
  await startServices(profile);
  const after = await pidsByName(profile);
  const started = [...after].filter(([name, pid]) => before.get(name) !== pid).map(([name]) => name);
  log(started.length > 0 ? `stack: started ${started.join(', ')} (stopped again at the end)` : 'stack: everything was already running');
  const { ports } = profileOf(profile);
  return {
    profile,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    ticketingUrl: `http://127.0.0.1:${ports.ticketing}`,
    paymentUrl: `http://127.0.0.1:${ports.payment}`,
    started,
    pids: () => pidsByName(profile),
    processes: () => running(profile),
    async stop() {
      for (const name of [...started].reverse()) {
        if (await stopServer(profile, name)) log(`stack: stopped ${name}`);
      }
    },
  };
}

/** Whether a run met fresh services or ones with a history (a long-lived process carries caches and a bigger heap). */
export function describeStack(started: string[]): string {
  const services = ['ticketing', 'admission', 'payment'];
  if (services.every((name) => started.includes(name))) return 'services freshly started by this command';
  return `services already running before this command${started.length > 0 ? ` (it started ${started.join(', ')})` : ''}`;
}

/** Connections to the stack's Redis, Postgres and Kafka, for creating deals and reading the truth. */
export interface StackClients {
  redis: RedisClient;
  store: DealStore;
  db: Kysely<Database>;
  kafka: Kafka;
  close(): Promise<void>;
}

export function connectClients(profile: ProfileName): StackClients {
  const stack = endpoints(profile);
  const redis = connectRedis(redisTopologyFromEnv(stack.redisEnv));
  const db = connectDatabase(stack.postgresUrl, { maxConnections: 3 });
  const kafka = createKafka({ brokers: stack.kafkaBrokers, clientId: 'quickdeal-loadtest' });
  return {
    redis,
    store: new DealStore(redis),
    db,
    kafka,
    async close() {
      await db.destroy();
      redis.disconnect();
    },
  };
}

/**
 * Waits until a member of the admission consumer group is assigned each topic (a new topic takes a
 * rebalance); returns which member (its member id) reads each topic.
 */
export async function waitForAdmission(
  kafka: Kafka,
  topics: string[],
  timeoutMs = 90_000,
  groupId = 'quickdeal-admission',
): Promise<Map<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const assigned = new Map<string, string>();
      for (const member of groups[0]?.members ?? []) {
        const decoded = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
        for (const topic of Object.keys(decoded?.assignment ?? {})) assigned.set(topic, member.memberId);
      }
      if (topics.every((topic) => assigned.has(topic))) return assigned;
      if (Date.now() > deadline)
        throw new Error(`the admission consumers did not pick up ${topics.join(', ')} within ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

/** "2 consumers: 10 + 10 deals": how the admission consumers share the given topics. */
export function describeAssignment(assignment: Map<string, string>): string {
  const perMember = new Map<string, number>();
  for (const member of assignment.values()) perMember.set(member, (perMember.get(member) ?? 0) + 1);
  const counts = [...perMember.values()].sort((a, b) => b - a);
  return `${counts.length} consumer${counts.length === 1 ? '' : 's'}: ${counts.join(' + ')} deals`;
}
