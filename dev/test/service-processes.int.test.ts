import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { TicketKeyring } from '@quickdeal/core';
import { repoRoot } from '../src/paths.js';
import { endpoints } from '../src/profiles.js';
import { metricValue, startServiceProcess } from '../src/testing/index.js';

const stack = endpoints('test');
/** The Node every service process must run on: the one running the tests, or the one npm test's Node 24 pass names. */
const expectedNode = process.env.QUICKDEAL_TEST_NODE_VERSION ?? process.version;
const running: ChildProcess[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** Starts a service's main.ts as its own process on a free port; resolves with its port once it listens. */
const startService = (service: string, env: Record<string, string>) => startServiceProcess(service, env, running);

const settings = async () => ({
  REDIS_URL: stack.redisUrl,
  DATABASE_URL: stack.postgresUrl,
  KAFKA_BROKERS: stack.kafkaBrokers.join(','),
  TICKET_SIGNING_KEY: JSON.stringify(await TicketKeyring.generateSigningJwk()),
  KAFKA_TOPIC_PREFIX: `qdtest.proc${Date.now()}.`,
  ADMISSION_GROUP_ID: `qdtest-proc-${Date.now()}`,
  SHOPPER_IDENTITY: 'header',
});

describe.each(['ticketing', 'admission', 'payment'])('the %s service as a process', (service) => {
  it('is ready when its dependencies answer, exposes metrics, and stops cleanly on SIGTERM', async () => {
    const { child, port } = await startService(service, await settings());
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // ready once its dependencies answer (admission: once it has joined its consumer group)
    let ready = await fetch(`${base}/readyz`);
    for (let tries = 0; ready.status !== 200 && tries < 100; tries++) {
      await sleep(200);
      ready = await fetch(`${base}/readyz`);
    }
    const body = await ready.json();
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('ready');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('quickdeal_http_request_duration_seconds_bucket');
    expect(metrics).toContain(`service="${service}"`);
    const onNode = metricValue(metrics, 'quickdeal_process_nodejs_version_info', { version: expectedNode });
    expect(onNode, `runs on Node ${expectedNode}`).toBe(1);
    // headers are read from the real Node request: the caller's request id comes back, and the shopper and ticket headers count
    const traced = await fetch(`${base}/no-such-path`, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(traced.headers.get('x-request-id')).toBe('trace-42');
    expect((await traced.json()).error).toMatchObject({ code: 'NOT_FOUND', requestId: 'trace-42' });
    if (service !== 'admission') {
      const path = service === 'ticketing' ? 'tickets/status' : 'checkout';
      const anonymous = await fetch(`${base}/api/v1/deals/x/${path}`);
      expect((await anonymous.json()).error.code).toBe('SHOPPER_ID_MISSING');
      const unsigned = await fetch(`${base}/api/v1/deals/x/${path}`, { headers: { 'X-User-Id': 'alice', Authorization: 'Basic abc' } });
      expect((await unsigned.json()).error.code).toBe('TICKET_INVALID');
    }
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses to start with a bad configuration, naming the variable', async () => {
    const { code, output } = await runToExit(service, { ...process.env, ...(await settings()), PORT: 'not-a-port', REDIS_URL: 'nowhere' });
    expect(code).toBe(1);
    expect(output).toMatch(/invalid configuration: PORT: .*REDIS_URL/);
  });
});

/** Runs a service's main until it exits (a start it refuses); its exit code and what it logged. */
async function runToExit(service: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', `services/${service}/src/main.ts`], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe.each(['ticketing', 'payment'])('the %s service', (service) => {
  it('identifies shoppers by session token unless told otherwise, and will not start without the shop settings', async () => {
    const { SHOPPER_IDENTITY: _headerMode, ...env } = { ...process.env, ...(await settings()) };
    const { code, output } = await runToExit(service, env);
    expect(code).toBe(1);
    expect(output).toMatch(/SHOPPER_IDENTITY=token needs SHOPPER_TOKEN_ISSUER, SHOPPER_TOKEN_AUDIENCE, SHOPPER_TOKEN_JWKS_URL/);
  });
});

describe('readiness follows the dependencies', () => {
  it('turns not ready while Redis cannot be reached', async () => {
    // a Redis address where nothing listens: the service starts, but is not ready
    const { port } = await startService('ticketing', { ...(await settings()), REDIS_URL: 'redis://127.0.0.1:1' });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.redis).toBe(false);
  });
});
