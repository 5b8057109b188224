import { KeyObject, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { systemClock, type Clock } from './clock.js';
import { errors } from './errors.js';

export const ticketIssuer = 'quickdeal';
const algorithm = 'EdDSA';

/** A ticket's claims: the shopper (`sub`), the deal, the queue number (`qn`) and its lifetime in seconds. */
export const ticketClaimsSchema = z.object({
  iss: z.literal(ticketIssuer),
  sub: z.string().min(1).max(128),
  deal: z.string().min(1).max(200),
  qn: z.number().int().min(1),
  jti: z.string().min(1).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type TicketClaims = z.infer<typeof ticketClaimsSchema>;

type Key = CryptoKey | KeyObject;

/** The keys that sign tickets (one) and verify them (several, so keys rotate without dropping tickets). */
export class TicketKeyring {
  private constructor(
    readonly signing: { kid: string; key: KeyObject } | undefined,
    private readonly verifying: Map<string, Key>,
    private readonly publicJwks: JWK[],
  ) {}

  static async create(signingJwk: JWK | undefined, verificationJwks: JWK[] = []): Promise<TicketKeyring> {
    const verifying = new Map<string, Key>();
    const publicJwks: JWK[] = [];
    const addPublic = async (jwk: JWK) => {
      const { d: _private, ...publicJwk } = jwk;
      const kid = publicJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
      if (verifying.has(kid)) return;
      verifying.set(kid, (await importJWK({ ...publicJwk, alg: algorithm }, algorithm)) as Key);
      publicJwks.push({ ...publicJwk, kid, alg: algorithm, use: 'sig' });
    };
    let signing: { kid: string; key: KeyObject } | undefined;
    if (signingJwk) {
      if (!signingJwk.d) throw new Error('the ticket signing key must be a private Ed25519 JWK (it has no "d")');
      if (signingJwk.kty !== 'OKP' || signingJwk.crv !== 'Ed25519') {
        throw new Error(`the ticket signing key must be a private Ed25519 JWK (it is ${signingJwk.kty} ${signingJwk.crv ?? ''})`.trim());
      }
      const kid = signingJwk.kid ?? (await calculateJwkThumbprint({ ...signingJwk, d: undefined }));
      // A node:crypto key, as TicketSigner signs with: Node 24 deprecates turning a WebCrypto key into one (DEP0204).
      signing = {
        kid,
        key: createPrivateKey({ key: { kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x, d: signingJwk.d }, format: 'jwk' }),
      };
      await addPublic({ ...signingJwk, kid });
    }
    for (const jwk of verificationJwks) await addPublic(jwk);
    if (verifying.size === 0) throw new Error('no ticket verification key is configured');
    return new TicketKeyring(signing, verifying, publicJwks);
  }

  /** A fresh Ed25519 key pair as a private JWK with a thumbprint `kid`, for development and tests. */
  static async generateSigningJwk(): Promise<JWK> {
    const { privateKey } = await generateKeyPair(algorithm, { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint({ ...jwk, d: undefined });
    return { ...jwk, kid, alg: algorithm };
  }

  verificationKey(kid: string | undefined): Key | undefined {
    return kid === undefined ? undefined : this.verifying.get(kid);
  }

  /** The public keys, as served at /.well-known/jwks.json. */
  jwks(): { keys: JWK[] } {
    return { keys: this.publicJwks };
  }
}

/**
 * Reads the keyring from configuration: a private JWK (inline or a file) that signs, and a JWKS
 * (inline or a file) of further public keys still accepted during a rotation.
 */
export async function loadKeyring(env: Record<string, string | undefined>): Promise<{ keyring: TicketKeyring; generated: boolean }> {
  const read = (inline: string | undefined, file: string | undefined) => inline ?? (file ? readFileSync(file, 'utf8') : undefined);
  const signingText = read(env.TICKET_SIGNING_KEY, env.TICKET_SIGNING_KEY_FILE);
  const verificationText = read(env.TICKET_VERIFICATION_KEYS, env.TICKET_VERIFICATION_KEYS_FILE);
  const parse = (name: string, text: string) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`${name} is not valid JSON`);
    }
  };
  const signingJwk = signingText ? (parse('TICKET_SIGNING_KEY', signingText) as JWK) : undefined;
  const verificationJwks = verificationText ? ((parse('TICKET_VERIFICATION_KEYS', verificationText) as { keys?: JWK[] }).keys ?? []) : [];
  if (!signingJwk && verificationJwks.length === 0) {
    return { keyring: await TicketKeyring.create(await TicketKeyring.generateSigningJwk()), generated: true };
  }
  return { keyring: await TicketKeyring.create(signingJwk, verificationJwks), generated: false };
}

/** loadKeyring for a service's main: warns when no key was configured and a development key was made. */
export async function loadServiceKeyring(
  env: Record<string, string | undefined>,
  logger: { warn: (message: string) => void },
): Promise<TicketKeyring> {
  const { keyring, generated } = await loadKeyring(env);
  if (generated) logger.warn('no ticket keys configured: generated a development key, which no other process shares');
  return keyring;
}

/**
 * Signs tickets with node:crypto's Ed25519 and the key imported once: the same compact JWS jose's
 * SignJWT makes (Ed25519 is deterministic, so byte for byte the same token; the unit tests hold it
 * to that), at about half of the CPU, without WebCrypto's key handling and claim checks.
 * It signs on the calling thread, ~30 µs a ticket. Handing each signature to libuv's thread pool
 * (`sign` with a callback) held the loop for less, but cost more CPU in all and no throughput on a
 * busy 2-core host: a pool thread and the loop woken per ticket (loadtest/RESULTS.md, issue 13's
 * eighth pass). Verification stays jose's (TicketVerifier).
 */
export class TicketSigner {
  private readonly key: KeyObject;
  private readonly encodedHeader: string;

  constructor(keyring: TicketKeyring) {
    const signing = keyring.signing;
    if (!signing) throw new Error('this keyring has no signing key');
    this.key = signing.key;
    this.encodedHeader = Buffer.from(JSON.stringify({ alg: algorithm, kid: signing.kid, typ: 'JWT' })).toString('base64url');
  }

  sign(claims: Omit<TicketClaims, 'iss'>): string {
    // The claims in SignJWT's order: its payload first, then what its setters add.
    const payload = {
      deal: claims.deal,
      qn: claims.qn,
      iss: ticketIssuer,
      sub: claims.sub,
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
    };
    const signingInput = `${this.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${signingInput}.${sign(null, Buffer.from(signingInput), this.key).toString('base64url')}`;
  }
}

export interface VerifiedTicket {
  claims: TicketClaims;
  /** True when `exp` has passed: waiting is over for it, though a checkout it won may still be open. */
  expired: boolean;
}

/**
 * Verifies tickets, remembering the claims of every token it verified (bounded LRU keyed by the
 * whole token string), so a shopper polling every second costs one signature check, not one per poll.
 */
export class TicketVerifier {
  private readonly verified: LRUCache<string, TicketClaims> | undefined;

  constructor(
    private readonly keyring: TicketKeyring,
    /** `cacheSize` 0: no cache (lru-cache refuses a size of 0). */
    options: { cacheSize?: number; clock?: Clock } = {},
  ) {
    const cacheSize = options.cacheSize ?? 100_000;
    this.verified = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
    this.clock = options.clock ?? systemClock;
  }

  private readonly clock: Clock;

  async verify(token: string): Promise<VerifiedTicket> {
    const remembered = this.remembered(token);
    if (remembered) return remembered;
    const claims = await this.verifySignature(token);
    this.verified?.set(token, claims);
    return this.withExpiry(claims);
  }

  /** The ticket when this very token was verified before (no promise, for the poll's path), else undefined: ask `verify`. */
  remembered(token: string): VerifiedTicket | undefined {
    const claims = this.verified?.get(token);
    return claims && this.withExpiry(claims);
  }

  private withExpiry(claims: TicketClaims): VerifiedTicket {
    return { claims, expired: claims.exp * 1000 <= this.clock.now() };
  }

  private async verifySignature(token: string): Promise<TicketClaims> {
    if (token.length > 4096 || token.split('.').length !== 3) {
      throw errors.unauthorized('TICKET_INVALID', 'The ticket is not a well-formed token');
    }
    let payload: Uint8Array;
    try {
      const result = await compactVerify(token, (header) => {
        const key = this.keyring.verificationKey(header.kid);
        if (!key || header.alg !== algorithm) throw new Error('unknown key');
        return key;
      });
      payload = result.payload;
    } catch {
      throw errors.unauthorized('TICKET_INVALID', 'The ticket’s signature is not valid');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      throw errors.unauthorized('TICKET_INVALID', 'The ticket’s claims do not parse');
    }
    const claims = ticketClaimsSchema.safeParse(parsed);
    if (!claims.success) throw errors.unauthorized('TICKET_INVALID', 'The ticket’s claims are incomplete');
    return claims.data;
  }
}

const ticketIdBytes = 12;
let randomPool = Buffer.alloc(0);
let randomPoolUsed = 0;

/** A random, URL-safe ticket id, cut from 4 KiB of randomness drawn at a time (one draw per ticket cost ~17 µs). */
export function newTicketId(): string {
  if (randomPoolUsed + ticketIdBytes > randomPool.length) {
    randomPool = randomBytes(4096);
    randomPoolUsed = 0;
  }
  randomPoolUsed += ticketIdBytes;
  return randomPool.toString('base64url', randomPoolUsed - ticketIdBytes, randomPoolUsed);
}
