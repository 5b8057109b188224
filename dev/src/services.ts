import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TicketKeyring } from '@quickdeal/core';
import { applyQuickDealFiles } from '@quickdeal/operator';
import { repoRoot, stateDir } from './paths.js';
import { endpoints, profileNodes, profile as profileOf, type ProfileName } from './profiles.js';
import { SetupError } from './errors.js';
import { report } from './report.js';
import { ensureNginxGateway } from './servers/nginx.js';
import { ensureRunning } from './supervisor.js';

export const demoDealFile = join(repoRoot, 'manifests', 'samples', 'demo-deal.yaml');

/** The development signing key, made once per profile and shared by ticketing (signs) and payment (verifies). */
async function ticketKeyFile(profile: ProfileName): Promise<string> {
  const dir = join(stateDir(profile), 'keys');
  const file = join(dir, 'ticket-signing.jwk.json');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(await TicketKeyring.generateSigningJwk()), { mode: 0o600 });
  }
  return file;
}

const isReady = (url: string) => async () => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
};

/**
 * The old-generation heap each process may use, in MiB. On a machine with plenty of memory V8
 * otherwise lets garbage pile up to gigabytes before it collects; this holds each service to the
 * budget it has in a cluster (the chart's containers size the heap from their memory limit).
 */
const heapLimitMiB = 160;

/** Runs a TypeScript entry point of the repo with node, as the services run in development. */
function nodeProcess(entry: string): { command: string; args: string[]; cwd: string } {
  return {
    command: process.execPath,
    args: [`--max-old-space-size=${heapLimitMiB}`, '--conditions=quickdeal-source', '--import', 'tsx', join(repoRoot, entry)],
    cwd: repoRoot,
  };
}

/** Ticket requests each local ticketing process works on at once (its MAX_TICKETS_IN_PROGRESS); the proxy's door limit follows it. */
const ticketDoorSize = 256;

/**
 * The local stack's gateway in front of the services: nginx, configured from the route table as a
 * cluster's ingress would be, or the Node gateway where nginx cannot be installed (or
 * QUICKDEAL_GATEWAY=node asks for it). Both run as the profile's `gateway`.
 */
async function startGateway(profile: ProfileName, gatewayUrl: string, urls: Map<string, string[]>): Promise<void> {
  const { ports } = profileOf(profile);
  const ready = isReady(`${gatewayUrl}/healthz`);
  const choice = process.env.QUICKDEAL_GATEWAY ?? 'nginx';
  const processes = (service: string) => urls.get(service) ?? [];
  if (choice === 'nginx') {
    const upstreams = {
      ticketing: processes('ticketing').map((url) => new URL(url).host),
      payment: processes('payment').map((url) => new URL(url).host),
    };
    try {
      // Twice what the ticketing processes' doors take in: the doors answer BUSY with the
      // Retry-After they measure, the proxy only the overflow beyond that.
      const ticketRequestsInProgress = 2 * ticketDoorSize * upstreams.ticketing.length;
      await ensureNginxGateway(profile, { host: '127.0.0.1', port: ports.gateway, upstreams, ticketRequestsInProgress }, ready);
      return;
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      report('gateway', `nginx is not available (${error.message}); running the Node gateway instead`);
    }
  }
  await ensureRunning(profile, {
    name: 'gateway',
    ...nodeProcess('dev/src/gateway/main.ts'),
    env: { PORT: String(ports.gateway), TICKETING_URL: processes('ticketing').join(','), PAYMENT_URL: processes('payment').join(',') },
    port: ports.gateway,
    ready,
  });
}

type ServiceName = 'payment' | 'ticketing' | 'admission';

/** How each service runs locally: its entry point and the settings it gets beside the common ones. */
function serviceSpecs(profile: ProfileName): Array<{ name: ServiceName; entry: string; port: number; env: Record<string, string> }> {
  const { ports } = profileOf(profile);
  return [
    { name: 'payment', entry: 'services/payment/src/main.ts', port: ports.payment, env: {} },
    // Behind the gateway every request comes from one address: the client limit uses X-Forwarded-For.
    {
      name: 'ticketing',
      entry: 'services/ticketing/src/main.ts',
      port: ports.ticketing,
      env: {
        TRUST_PROXY: 'true',
        REQUESTS_PER_CLIENT_PER_SECOND: '0',
        PAGES_SHOPPER_ID_INPUT: 'true',
        MAX_TICKETS_IN_PROGRESS: String(ticketDoorSize),
      },
    },
    { name: 'admission', entry: 'services/admission/src/main.ts', port: ports.admission, env: {} },
  ];
}

async function commonEnv(profile: ProfileName): Promise<Record<string, string>> {
  const stack = endpoints(profile);
  return {
    ...stack.redisEnv,
    DATABASE_URL: stack.postgresUrl,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    TICKET_SIGNING_KEY_FILE: await ticketKeyFile(profile),
    // Local only: everything listens on loopback, so a person names the shopper with X-User-Id (README).
    SHOPPER_IDENTITY: 'header',
  };
}

/** Starts (or finds running) one process of a service under `name` on `port`: a replica, or an extra one a test adds. */
export async function ensureServiceProcess(profile: ProfileName, service: ServiceName, name: string, port: number): Promise<string> {
  const spec = serviceSpecs(profile).find((candidate) => candidate.name === service)!;
  const url = `http://127.0.0.1:${port}`;
  await ensureRunning(profile, {
    name,
    ...nodeProcess(spec.entry),
    env: { ...(await commonEnv(profile)), ...spec.env, PORT: String(port) },
    port,
    ready: isReady(`${url}/readyz`),
    readyTimeoutMs: 60_000,
  });
  return url;
}

/**
 * Starts QuickDeal's own processes for `quickdeal up`, after the infrastructure: payment (it
 * runs the database migrations), ticketing, admission (every replica of each, in that order) and
 * the gateway in front of the replicas; then applies the demo deal.
 */
export async function startServices(profile: ProfileName): Promise<Array<{ name: string; url: string }>> {
  const { ports } = profileOf(profile);
  const stack = endpoints(profile);
  const started: Array<{ name: string; url: string }> = [];
  const urls = new Map<string, string[]>();
  // Payment first (it runs the migrations), then every replica of it before the next service.
  for (const service of serviceSpecs(profile)) {
    for (const replica of serviceReplicas(profile, service.name, service.port)) {
      const url = await ensureServiceProcess(profile, service.name, replica.name, replica.port);
      started.push({ name: replica.name, url });
      urls.set(service.name, [...(urls.get(service.name) ?? []), url]);
    }
  }
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  await startGateway(profile, gatewayUrl, urls);
  started.push({ name: 'gateway', url: gatewayUrl });

  const applied = await applyQuickDealFiles([demoDealFile], { ...stack });
  for (const deal of applied) started.push({ name: `deal ${deal.dealId}`, url: `${gatewayUrl}/deals/${deal.dealId}` });
  return started;
}

/** The processes of a service the profile runs: `ticketing` alone, or `ticketing-1` … `ticketing-N` on consecutive ports. */
export function serviceReplicas(profile: ProfileName, service: string, basePort: number): Array<{ name: string; port: number }> {
  const count = profileNodes(profile).serviceReplicas;
  return Array.from({ length: count }, (_, i) => ({ name: count === 1 ? service : `${service}-${i + 1}`, port: basePort + i }));
}
