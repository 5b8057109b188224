/**
 * The two baselines the benchmark measures beside the real paths (baseline-server.ts serves them;
 * ticket-cpu.ts calls them in-process):
 * - GET  /bare: fixed JSON the size of a status answer, nothing else;
 * - POST /sign: signs and returns one EdDSA ticket with core's TicketSigner (node:crypto, as ticketing signs), nothing else;
 * - POST /sign-jose: the same with jose's SignJWT (WebCrypto, the key imported once), for comparison.
 */
import { Hono, type Context } from 'hono';
import { SignJWT } from 'jose';
import { TicketKeyring, TicketSigner, newTicketId, type TicketClaims } from '@quickdeal/core';

export async function createBaselineApp(): Promise<Hono> {
  const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
  const signing = keyring.signing!;
  const signer = new TicketSigner(keyring);
  const signWithJose = (claims: Omit<TicketClaims, 'iss'>) =>
    new SignJWT({ deal: claims.deal, qn: claims.qn })
      .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: 'JWT' })
      .setIssuer('quickdeal')
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(signing.key);
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
  /** Signs one ticket with `sign` and answers it as ticket issue does. */
  async function signOnly(c: Context, sign: (claims: Omit<TicketClaims, 'iss'>) => string | Promise<string>) {
    const issuedAt = Math.floor(Date.now() / 1000);
    const qn = ++queueNumber;
    const ticket = await sign({
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
  }
  app.post('/sign', (c) => signOnly(c, (claims) => signer.sign(claims)));
  app.post('/sign-jose', (c) => signOnly(c, signWithJose));
  return app;
}
