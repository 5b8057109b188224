import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamAgent } from '../src/gateway/upstream-agent.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A service that keeps connections for 10 s and answers after `delayMs`; counts the connections it saw close. */
async function service(delayMs = 0) {
  const seen = { connections: 0, closed: 0 };
  server = createServer((_req, res) => setTimeout(() => res.end('ok'), delayMs));
  server.keepAliveTimeout = 10_000;
  server.on('connection', (socket: Socket) => {
    seen.connections++;
    socket.on('close', () => seen.closed++);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

function get(port: number, agent: UpstreamAgent): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the gateway’s upstream agent', () => {
  it('reuses a kept-alive socket, and closes it itself once idle for its (shorter) idle time', async () => {
    const { port, seen } = await service();
    const agent = new UpstreamAgent(300);
    expect(await get(port, agent)).toBe(200);
    expect(await get(port, agent)).toBe(200);
    expect(seen.connections).toBe(1);
    await sleep(600);
    expect(seen.closed).toBe(1); // the gateway's side closed it, long before the service's 10 s
    expect(await get(port, agent)).toBe(200);
    expect(seen.connections).toBe(2);
    agent.destroy();
  });

  it('does not cut off a request that takes longer than the idle time', async () => {
    const { port } = await service(700);
    const agent = new UpstreamAgent(200);
    expect(await get(port, agent)).toBe(200);
    expect(await get(port, agent)).toBe(200); // on the reused socket, still slower than the idle time
    agent.destroy();
  });
});
