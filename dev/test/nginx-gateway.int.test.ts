import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/ports.js';
import { installNginx, writeNginxConfig } from '../src/servers/nginx.js';
import { listenLocally } from '../src/testing/http-stack.js';

interface Seen {
  name: string;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  /** The upstream connection the request came on. */
  connection: number;
}

const servers: Server[] = [];
let nginx: ChildProcess | undefined;
let dir: string;

/** Ticket requests (POST …/tickets) the upstreams hold until the test lets them go. */
const heldTickets: Array<() => void> = [];
let holdTickets = false;

/** An upstream process that answers with what it received and on which connection. */
async function echo(name: string): Promise<string> {
  let connections = 0;
  const server = createServer((req, res) => {
    const seen: Seen = { name, url: req.url, headers: req.headers, connection: (req.socket as unknown as { id: number }).id };
    const answer = () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(seen));
    };
    if (holdTickets && req.method === 'POST' && req.url?.endsWith('/tickets')) heldTickets.push(answer);
    else answer();
  });
  server.on('connection', (socket) => Object.assign(socket, { id: ++connections }));
  servers.push(server);
  return new URL(await listenLocally(server)).host;
}

/** Starts nginx on a rendered configuration; resolves with its URL once it answers. */
async function startNginx(upstreams: { ticketing: string[]; payment: string[] }): Promise<string> {
  const command = await installNginx();
  const port = await freePort();
  const file = writeNginxConfig(command, { host: '127.0.0.1', port, upstreams, dir, workers: 2, ticketRequestsInProgress: 3 });
  nginx = spawn(command, ['-p', dir, '-c', file], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return url;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('nginx did not answer within 5 s');
}

let url: string;
let deadHost: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qd-nginx-'));
  const dead = createServer();
  deadHost = new URL(await listenLocally(dead)).host;
  await new Promise((resolve) => dead.close(resolve));
  url = await startNginx({ ticketing: [await echo('ticketing-1'), await echo('ticketing-2')], payment: [await echo('payment-1')] });
});

afterAll(async () => {
  nginx?.kill('SIGTERM');
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Seen & { error?: { code: string } } };
};

describe('the nginx gateway, over real HTTP', () => {
  it('sends each public path to its service, across all of its processes, over kept-alive connections', async () => {
    const polls = await Promise.all(Array.from({ length: 40 }, () => get('/api/v1/deals/phone/tickets/status?x=1')));
    expect(polls.every((p) => p.status === 200)).toBe(true);
    expect(new Set(polls.map((p) => p.body.name))).toEqual(new Set(['ticketing-1', 'ticketing-2']));
    expect(polls[0]!.body.url).toBe('/api/v1/deals/phone/tickets/status?x=1');
    const after = await Promise.all(Array.from({ length: 10 }, () => get('/deals/phone')));
    // kept alive: the later requests come on connections opened for the earlier ones
    const connections = new Set([...polls, ...after].map((p) => `${p.body.name}/${p.body.connection}`));
    expect(connections.size).toBeLessThan(50);
    expect((await get('/api/v1/deals/phone/orders')).body.name).toBe('payment-1');
    expect((await get('/.well-known/jwks.json')).body.name).toMatch(/^ticketing-/);
  });

  it('tells the service the peer’s address, not the X-Forwarded-For a client sends, and passes the shopper header on', async () => {
    const { body } = await get('/deals/phone', { 'X-Forwarded-For': '203.0.113.7', 'X-User-Id': 'alice' });
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(body.headers['x-forwarded-host']).toBe(new URL(url).host);
    expect(body.headers['x-forwarded-proto']).toBe('http');
    expect(body.headers['x-user-id']).toBe('alice');
  });

  it('answers paths outside the public routes itself with a JSON 404', async () => {
    for (const path of ['/metrics', '/readyz', '/api/v1/deals/a/b/tickets']) {
      const { status, body } = await get(path);
      expect(status, path).toBe(404);
      expect(body.error?.code).toBe('NOT_FOUND');
    }
  });

  it('answers ticket requests beyond its limit in progress 429 BUSY with Retry-After itself, and lets polls through', async () => {
    holdTickets = true;
    const post = () => fetch(`${url}/api/v1/deals/phone/tickets`, { method: 'POST' });
    const first = [post(), post(), post()];
    await expect.poll(() => heldTickets.length).toBe(3);
    const turnedAway = await Promise.all(Array.from({ length: 5 }, post)); // answered while the three are held
    for (const response of turnedAway) {
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(4);
      expect(((await response.json()) as { error?: { code: string } }).error?.code).toBe('BUSY');
    }
    expect((await get('/api/v1/deals/phone/tickets/status')).status).toBe(200);
    expect((await get('/api/v1/deals/phone/prequeue')).status).toBe(200);
    holdTickets = false;
    for (const release of heldTickets.splice(0)) release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200, 200]);
    // their places are free again
    expect((await post()).status).toBe(200);
  });

  it('answers 503 in JSON with Retry-After when no process of the service answers', async () => {
    nginx?.kill('SIGTERM');
    await new Promise((resolve) => nginx?.once('exit', resolve));
    url = await startNginx({ ticketing: [deadHost], payment: [deadHost] });
    const response = await fetch(`${url}/api/v1/deals/phone/tickets/status`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { error?: { code: string } }).error?.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});
