import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { httpTimeouts, runService, type RunningService } from '../src/http/serve.js';

const logger = createLogger('test', 'silent');
const run = promisify(execFile);
let running: RunningService | undefined;

afterEach(async () => {
  await running?.shutdown('test over');
  running = undefined;
});

async function serveHello(timeouts: { HTTP_KEEP_ALIVE_TIMEOUT_MS?: number; HTTP_HEADERS_TIMEOUT_MS?: number } = {}) {
  const app = new Hono().get('/hello', (c) => c.text('hello'));
  running = await runService({
    compose: () => ({ app, stop: async () => undefined }),
    config: { PORT: 0, HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: 5_000, ...timeouts },
    logger,
    exitOnShutdown: false,
  });
  return running;
}

/** Sends one request on a raw socket and resolves with the status line of the answer. */
function request(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n') && text.endsWith('hello')) done(() => resolve(text.split('\r\n')[0] ?? ''));
    };
    const onClose = () => done(() => reject(new Error('the service closed the kept-alive connection')));
    const done = (then: () => void) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      then();
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
}

describe('a service behind a keep-alive proxy', () => {
  it('keeps an idle connection open past Node’s default 5 s (6 s with its buffer), so a proxy can reuse it', async () => {
    const { port } = await serveHello();
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let closed = false;
    socket.once('close', () => (closed = true));
    expect(await request(socket)).toBe('HTTP/1.1 200 OK');
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    expect(closed).toBe(false);
    expect(await request(socket)).toBe('HTTP/1.1 200 OK');
    socket.destroy();
  }, 15_000);

  it('sets the configured keep-alive and headers timeouts on the server (headers above keep-alive)', async () => {
    const { server } = await serveHello({ HTTP_KEEP_ALIVE_TIMEOUT_MS: 75_000 });
    expect((server as Server).keepAliveTimeout).toBe(75_000);
    expect((server as Server).headersTimeout).toBe(76_000);
    expect(httpTimeouts({})).toMatchObject({ keepAliveTimeout: 65_000, headersTimeout: 66_000 });
  });

  it('listens with a backlog of 4,096 connections (Node’s 511 overflows when a proxy opens a burst of them), as ss shows it', async () => {
    const { port } = await serveHello();
    const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`]);
    const [state, , backlog] = stdout.trim().split(/\s+/);
    expect(state).toBe('LISTEN');
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    expect(Number(backlog)).toBe(Math.min(4_096, somaxconn));
    expect(Number(backlog)).toBeGreaterThan(511);
  });

  it('refuses a headers timeout that is not above the keep-alive timeout', () => {
    expect(() => httpTimeouts({ HTTP_KEEP_ALIVE_TIMEOUT_MS: 65_000, HTTP_HEADERS_TIMEOUT_MS: 60_000 })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS .* must be above HTTP_KEEP_ALIVE_TIMEOUT_MS/,
    );
  });
});
