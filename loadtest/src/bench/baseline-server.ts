/**
 * The two baselines the benchmark measures beside the real paths, in their own process and served
 * the way the services serve (Hono on @hono/node-server), on PORT (0: any free port):
 * - GET  /bare: fixed JSON the size of a status answer, nothing else;
 * - POST /sign: signs and returns one EdDSA ticket with jose (core's TicketSigner), nothing else.
 * Prints `listening <port>` once ready.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { TicketKeyring, TicketSigner, newTicketId } from '@quickdeal/core';

const signer = new TicketSigner(await TicketKeyring.create(await TicketKeyring.generateSigningJwk()));
const fixed = {
  status: 'ACCESS_DENIED',
  queueNumber: 12_345,
  paused: false,
  position: 11_345,
  unitsLeft: 1_000,
  etaSeconds: 114,
  pollAfterMs: 22_800,
};
let queueNumber = 0;

const app = new Hono();
app.get('/bare', (c) => c.json(fixed));
app.post('/sign', async (c) => {
  const issuedAt = Math.floor(Date.now() / 1000);
  const qn = ++queueNumber;
  const ticket = await signer.sign({
    sub: c.req.header('X-User-Id') ?? 'anonymous',
    deal: 'bench',
    qn,
    jti: newTicketId(),
    iat: issuedAt,
    exp: issuedAt + 7_200,
  });
  return c.json(
    { ticket, status: 'ACCESS_DENIED', queueNumber: qn, position: qn, unitsLeft: 1_000, etaSeconds: 60, pollAfterMs: 12_000 },
    201,
  );
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) =>
  console.log(`listening ${info.port}`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
