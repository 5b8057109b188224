import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../src/errors.js';
import { TicketKeyring, TicketSigner, TicketVerifier, loadKeyring, newTicketId } from '../src/tickets.js';

const clockAt = (ms: number) => ({ now: () => ms });

async function signedTicket(keyring: TicketKeyring, exp: number) {
  return new TicketSigner(keyring).sign({ sub: 'alice', deal: 'deal-1', qn: 7, jti: newTicketId(), iat: exp - 3600, exp });
}

describe('tickets', () => {
  // First in the file: Node prints a deprecation once per process.
  it('are signed with no runtime warning (Node 24 deprecates KeyObject.from of a non-extractable CryptoKey, DEP0204)', async () => {
    const warnings: string[] = [];
    const collect = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', collect);
    try {
      await signedTicket(await TicketKeyring.create(await TicketKeyring.generateSigningJwk()), 10_000);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', collect);
    }
    expect(warnings).toEqual([]);
  });

  it('verify under every live key, so signing keys rotate without dropping tickets', async () => {
    const oldJwk = await TicketKeyring.generateSigningJwk();
    const newJwk = await TicketKeyring.generateSigningJwk();
    const oldRing = await TicketKeyring.create(oldJwk);
    const { d: _secret, ...oldPublic } = oldJwk;
    const rotated = await TicketKeyring.create(newJwk, [oldPublic]);
    const verifier = new TicketVerifier(rotated, { clock: clockAt(0) });
    const fromOldKey = await signedTicket(oldRing, 10_000);
    const fromNewKey = await signedTicket(rotated, 10_000);
    expect((await verifier.verify(fromOldKey)).claims).toMatchObject({ sub: 'alice', deal: 'deal-1', qn: 7, iss: 'quickdeal' });
    expect((await verifier.verify(fromNewKey)).claims.qn).toBe(7);
    expect(rotated.jwks().keys.map((k) => k.kid)).toEqual([newJwk.kid, oldJwk.kid]);
    expect(rotated.jwks().keys.every((k) => k.d === undefined)).toBe(true);

    // once the old key is retired, its tickets are refused
    const retired = await TicketKeyring.create(newJwk);
    await expect(new TicketVerifier(retired).verify(fromOldKey)).rejects.toMatchObject({ status: 401, code: 'TICKET_INVALID' });
  });

  it('are signed with node:crypto into the very token jose signs, which jose verifies', async () => {
    const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    const signing = keyring.signing!;
    const claims = { sub: 'alice', deal: 'deal-1', qn: 7, jti: newTicketId(), iat: 1_700_000_000, exp: 1_700_007_200 };
    const ours = new TicketSigner(keyring).sign(claims);
    const jose = await new SignJWT({ deal: claims.deal, qn: claims.qn })
      .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: 'JWT' })
      .setIssuer('quickdeal')
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(signing.key);
    expect(ours).toBe(jose);
    const { payload } = await jwtVerify(ours, createLocalJWKSet(keyring.jwks()), {
      issuer: 'quickdeal',
      currentDate: new Date(claims.iat * 1000),
    });
    expect(payload).toEqual({ ...claims, iss: 'quickdeal' });
  });

  it('verify a token once and answer later polls from the cache, still checking expiry on every hit', async () => {
    const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    let now = 1_000_000;
    const verifier = new TicketVerifier(keyring, { clock: { now: () => now } });
    const token = await signedTicket(keyring, 2_000);
    const verifySignature = vi.spyOn(verifier as unknown as { verifySignature: (t: string) => Promise<unknown> }, 'verifySignature');
    expect((await verifier.verify(token)).expired).toBe(false);
    expect((await verifier.verify(token)).expired).toBe(false);
    expect(verifySignature).toHaveBeenCalledTimes(1);
    now = 2_000_000;
    expect((await verifier.verify(token)).expired).toBe(true);
    expect(verifySignature).toHaveBeenCalledTimes(1);
  });

  it('refuse malformed tokens, wrong algorithms and incomplete claims with TICKET_INVALID', async () => {
    const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    const verifier = new TicketVerifier(keyring);
    for (const bad of ['', 'a.b', 'a.b.c', 'x'.repeat(5000), `${'eyJhbGciOiJub25lIn0'}.${Buffer.from('{}').toString('base64url')}.`]) {
      const error = await verifier.verify(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ status: 401, code: 'TICKET_INVALID' });
    }
  });

  it('load keys from configuration, or generate a development key when none is configured', async () => {
    const generated = await loadKeyring({});
    expect(generated.generated).toBe(true);
    expect(generated.keyring.signing).toBeDefined();
    const jwk = await TicketKeyring.generateSigningJwk();
    const configured = await loadKeyring({ TICKET_SIGNING_KEY: JSON.stringify(jwk) });
    expect(configured.generated).toBe(false);
    expect(configured.keyring.signing?.kid).toBe(jwk.kid);
    const { d: _secret, ...publicJwk } = jwk;
    const verifyOnly = await loadKeyring({ TICKET_VERIFICATION_KEYS: JSON.stringify({ keys: [publicJwk] }) });
    expect(verifyOnly.keyring.signing).toBeUndefined();
    await expect(loadKeyring({ TICKET_SIGNING_KEY: '{not json' })).rejects.toThrow(/TICKET_SIGNING_KEY is not valid JSON/);
    await expect(loadKeyring({ TICKET_SIGNING_KEY: JSON.stringify(publicJwk) })).rejects.toThrow(/private Ed25519 JWK/);
  });
});

describe('a verifier with no cache (VERIFIED_TICKET_CACHE_SIZE=0)', () => {
  it('starts and verifies every ticket by its signature', async () => {
    const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    const verifier = new TicketVerifier(keyring, { cacheSize: 0, clock: clockAt(0) });
    const ticket = await signedTicket(keyring, 10_000);
    expect((await verifier.verify(ticket)).claims.qn).toBe(7);
    expect((await verifier.verify(ticket)).claims.sub).toBe('alice');
  });
});
