import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway/gateway.js';
import { listenLocally } from '../src/testing/http-stack.js';

interface Seen {
  name: string;
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An upstream that answers with what it received. */
function echo(name: string): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const seen: Seen = { name, method: req.method, url: req.url, headers: req.headers, body };
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Upstream': name });
      res.end(JSON.stringify(seen));
    });
  });
}

const servers: Server[] = [];
let gatewayUrl: string;
let deadUrl: string;

beforeAll(async () => {
  const ticketing = echo('ticketing');
  const payment = echo('payment');
  const dead = createServer();
  servers.push(ticketing, payment);
  deadUrl = await listenLocally(dead);
  await new Promise((resolve) => dead.close(resolve)); // a port nobody answers on any more
  const gateway = createGateway({ ticketing: await listenLocally(ticketing), payment: await listenLocally(payment) });
  servers.push(gateway);
  gatewayUrl = await listenLocally(gateway);
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the local gateway, over real HTTP', () => {
  it('sends each public path to its service with the method, query, headers and body, and passes the answer back', async () => {
    const response = await fetch(`${gatewayUrl}/api/v1/deals/phone/orders?x=1`, {
      method: 'POST',
      headers: { 'X-User-Id': 'alice', 'Idempotency-Key': 'k1', 'Content-Type': 'application/json' },
      body: '{"paymentMethod":{"token":"tok_approve"}}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-upstream')).toBe('payment');
    const seen = (await response.json()) as Seen;
    expect(seen).toMatchObject({
      name: 'payment',
      method: 'POST',
      url: '/api/v1/deals/phone/orders?x=1',
      body: '{"paymentMethod":{"token":"tok_approve"}}',
    });
    expect(seen.headers).toMatchObject({ 'x-user-id': 'alice', 'idempotency-key': 'k1', 'x-forwarded-proto': 'http' });
    const ticketing = (await (await fetch(`${gatewayUrl}/api/v1/deals/phone/tickets/status`)).json()) as Seen;
    expect(ticketing.name).toBe('ticketing');
  });

  it('tells the service the peer’s address, not the X-Forwarded-For a client sends', async () => {
    const seen = (await (await fetch(`${gatewayUrl}/deals/phone`, { headers: { 'X-Forwarded-For': '203.0.113.7' } })).json()) as Seen;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(gatewayUrl).host);
  });

  it('answers paths outside the public routes itself with a JSON 404', async () => {
    const response = await fetch(`${gatewayUrl}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers 503 with Retry-After in JSON when the service does not answer', async () => {
    const gateway = createGateway({ ticketing: deadUrl, payment: deadUrl });
    servers.push(gateway);
    const response = await fetch(`${await listenLocally(gateway)}/api/v1/deals/phone/tickets`, { method: 'POST' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: { code: 'UPSTREAM_UNAVAILABLE' } });
  });

  it("spreads requests over a service's replicas, passing a refused request on and leaving out the replica that refused it", async () => {
    const [first, second] = [echo('ticketing-1'), echo('ticketing-2')];
    servers.push(first, second);
    const gateway = createGateway({ ticketing: [await listenLocally(first), deadUrl, await listenLocally(second)], payment: deadUrl });
    servers.push(gateway);
    const url = await listenLocally(gateway);
    const answers: Array<number | string> = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${url}/deals/phone`);
      answers.push(response.status === 201 ? ((await response.json()) as Seen).name : response.status);
    }
    // the dead replica refuses the second request, which goes on to the next one; then it sits out
    expect(answers).toEqual(['ticketing-1', 'ticketing-2', 'ticketing-1', 'ticketing-2', 'ticketing-1', 'ticketing-2']);
    // a request with a body cannot be sent twice: the shopper is told to come back
    const [onlyDead] = [createGateway({ ticketing: [deadUrl], payment: [deadUrl] })];
    servers.push(onlyDead);
    const refused = await fetch(`${await listenLocally(onlyDead)}/api/v1/deals/phone/orders`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(503);
  });
});
