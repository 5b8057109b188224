/**
 * Who the shopper of a request is. Two modes, chosen by configuration:
 *
 * - `token`: the shop's own session token (a JWT) in the `X-Session-Token` header, verified
 *   against the shop's JWKS with a required issuer and audience; the shopper id is one of its
 *   claims (`sub` by default). `Authorization: Bearer` already carries the waiting-room ticket,
 *   so the session token has a header of its own. A client-sent `X-User-Id` is refused here: a
 *   stray header must never be mistaken for an identity.
 * - `header`: `X-User-Id`, set by a trusted gateway that has already authenticated the shopper
 *   (and strips any client-sent copy), or by a person on a loopback-only local stack.
 *
 * The middleware resolves the shopper once per request and keeps the answer (or the refusal) on
 * the context; `shopperIdOf(c)` reads it where a route needs the shopper.
 */
import { readFileSync } from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError } from '../config.js';
import { AppError, errors } from '../errors.js';
import { headerOf, type HeaderReader } from './request-headers.js';

export const shopperIdPattern = /^[A-Za-z0-9._:@-]{1,128}$/;
export const sessionTokenHeader = 'X-Session-Token';
const userIdHeader = 'X-User-Id';

export type ShopperIdentityMode = 'token' | 'header';

export interface ShopperIdentity {
  readonly mode: ShopperIdentityMode;
  /** The shopper id of a request, from its headers, or an AppError (4xx when refused, 503 when the shop's keys cannot be fetched). */
  shopperOf(header: HeaderReader): string | Promise<string>;
}

/** What the middleware leaves on the context: the shopper, or why there is none. */
export type ShopperResolution = { shopperId: string } | { refusal: unknown };

/** Resolves the shopper of each request once; the refusal, if any, is thrown by `shopperIdOf`. */
export function identifyShopper(identity: ShopperIdentity): MiddlewareHandler<{ Variables: { shopper: ShopperResolution } }> {
  return async (c, next) => {
    try {
      c.set('shopper', { shopperId: await identity.shopperOf((name) => headerOf(c, name)) });
    } catch (refusal) {
      c.set('shopper', { refusal });
    }
    await next();
  };
}

function validShopperId(value: string | undefined, source: string): string {
  if (!value) throw errors.unauthorized('SHOPPER_ID_MISSING', `The ${source} is missing`);
  if (!shopperIdPattern.test(value)) {
    throw errors.badRequest('SHOPPER_ID_INVALID', `The ${source} must be 1 to 128 characters of letters, digits and ._:@-`);
  }
  return value;
}

/** `X-User-Id` as a trusted gateway in front sets it (or a person on a loopback-only local stack). */
export function headerIdentity(): ShopperIdentity {
  return { mode: 'header', shopperOf: (header) => validShopperId(header(userIdHeader), `${userIdHeader} header`) };
}

export interface TokenIdentityOptions {
  /** The shop's public keys: `createRemoteJWKSet(url)` in production, `createLocalJWKSet(jwks)` in tests. */
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Asymmetric signature algorithms only: never `none`, never an HS* secret. */
  algorithms: string[];
  /** The claim that names the shopper (`sub` by default). */
  claim?: string;
  clockToleranceSeconds?: number;
  /** Verified tokens remembered by their exact string, so a polling shopper costs one signature check (0: none). */
  cacheSize?: number;
  clock?: Clock;
}

const symmetricOrNone = (algorithm: string) => algorithm === 'none' || /^HS/i.test(algorithm);

/** The shop's session JWT in `X-Session-Token`, verified with jose; refuses a client-sent `X-User-Id`. */
export function tokenIdentity(options: TokenIdentityOptions): ShopperIdentity {
  const refused = options.algorithms.filter(symmetricOrNone);
  if (options.algorithms.length === 0 || refused.length > 0) {
    throw new Error(`session tokens need asymmetric algorithms; refused: ${refused.join(', ') || '(none given)'}`);
  }
  const claim = options.claim ?? 'sub';
  const clock = options.clock ?? systemClock;
  const cacheSize = options.cacheSize ?? 100_000;
  const verified = cacheSize > 0 ? new LRUCache<string, { shopperId: string; expiresAtMs: number }>({ max: cacheSize }) : undefined;

  async function verify(token: string): Promise<{ shopperId: string; expiresAtMs: number }> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.algorithms,
        requiredClaims: ['exp'],
        clockTolerance: options.clockToleranceSeconds ?? 30,
        currentDate: new Date(clock.now()),
      }));
    } catch (error) {
      throw sessionRefusal(error);
    }
    const value = payload[claim];
    if (typeof value !== 'string' || !shopperIdPattern.test(value)) {
      throw errors.unauthorized(
        'SESSION_INVALID',
        `The session token's "${claim}" claim is not a shopper id (1 to 128 characters of letters, digits and ._:@-)`,
      );
    }
    return { shopperId: value, expiresAtMs: (payload.exp ?? 0) * 1000 };
  }

  return {
    mode: 'token',
    async shopperOf(header) {
      if (header(userIdHeader) !== undefined) {
        throw errors.badRequest(
          'SHOPPER_ID_NOT_ACCEPTED',
          `Shoppers are identified by their session token here; do not send ${userIdHeader}`,
        );
      }
      const token = header(sessionTokenHeader)?.trim();
      if (!token) throw errors.unauthorized('SESSION_MISSING', `Send the shop's session token in the ${sessionTokenHeader} header`);
      if (token.length > 8192) throw errors.unauthorized('SESSION_INVALID', 'The session token is too long');
      let session = verified?.get(token);
      if (!session) {
        session = await verify(token);
        verified?.set(token, session);
      }
      if (session.expiresAtMs + (options.clockToleranceSeconds ?? 30) * 1000 <= clock.now()) {
        throw errors.unauthorized('SESSION_EXPIRED', 'The session has expired; sign in at the shop again');
      }
      return session.shopperId;
    },
  };
}

/** A jose failure as the answer the shopper gets: 401 naming what is wrong, or 503 when the shop's keys are out of reach. */
function sessionRefusal(error: unknown): AppError {
  const invalid = (why: string) => errors.unauthorized('SESSION_INVALID', `The session token ${why}`);
  if (error instanceof joseErrors.JWTExpired)
    return errors.unauthorized('SESSION_EXPIRED', 'The session has expired; sign in at the shop again');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return invalid('was issued by another issuer');
    if (error.claim === 'aud') return invalid('is meant for another audience');
    return invalid(`has an unacceptable "${error.claim}" claim`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported)
    return invalid('is signed with an algorithm that is not accepted');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey)
    return invalid("is not signed by one of the shop's keys");
  if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError) || /Key Set HTTP response/.test(error.message)) {
    return errors.unavailable('IDENTITY_UNAVAILABLE', "The shop's sign-in keys cannot be fetched just now; try again in a moment", 2);
  }
  return invalid('is not a valid JWT');
}

/** The identity settings ticketing and payment share (extend a service's schema with this shape). */
export const shopperIdentityConfigShape = {
  SHOPPER_IDENTITY: z.enum(['token', 'header']).default('token'),
  SHOPPER_TOKEN_JWKS_URL: z.string().url().optional(),
  SHOPPER_TOKEN_JWKS: z.string().optional(),
  SHOPPER_TOKEN_JWKS_FILE: z.string().optional(),
  SHOPPER_TOKEN_ISSUER: z.string().min(1).optional(),
  SHOPPER_TOKEN_AUDIENCE: z.string().min(1).optional(),
  SHOPPER_TOKEN_ALGORITHMS: z
    .string()
    .default('RS256,ES256,EdDSA')
    .transform((value) =>
      value
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .refine((list) => list.length > 0 && !list.some(symmetricOrNone), 'must list asymmetric algorithms only (never none or HS*)'),
  SHOPPER_TOKEN_CLAIM: z.string().min(1).default('sub'),
  SHOPPER_TOKEN_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
};

type IdentityConfig = z.output<z.ZodObject<typeof shopperIdentityConfigShape>>;

/** The identity a service's configuration asks for; a token mode without its settings fails fast naming them. */
export function shopperIdentityFromConfig(config: IdentityConfig, options: { clock?: Clock } = {}): ShopperIdentity {
  if (config.SHOPPER_IDENTITY === 'header') return headerIdentity();
  const missing = [
    config.SHOPPER_TOKEN_ISSUER ? undefined : 'SHOPPER_TOKEN_ISSUER',
    config.SHOPPER_TOKEN_AUDIENCE ? undefined : 'SHOPPER_TOKEN_AUDIENCE',
    config.SHOPPER_TOKEN_JWKS_URL || config.SHOPPER_TOKEN_JWKS || config.SHOPPER_TOKEN_JWKS_FILE
      ? undefined
      : 'SHOPPER_TOKEN_JWKS_URL (or SHOPPER_TOKEN_JWKS / SHOPPER_TOKEN_JWKS_FILE)',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(
      `invalid configuration: SHOPPER_IDENTITY=token needs ${missing.join(', ')} (or SHOPPER_IDENTITY=header behind a trusted gateway)`,
    );
  }
  return tokenIdentity({
    keys: shopKeysFrom(config),
    issuer: config.SHOPPER_TOKEN_ISSUER as string,
    audience: config.SHOPPER_TOKEN_AUDIENCE as string,
    algorithms: config.SHOPPER_TOKEN_ALGORITHMS,
    claim: config.SHOPPER_TOKEN_CLAIM,
    clockToleranceSeconds: config.SHOPPER_TOKEN_CLOCK_TOLERANCE_S,
    ...options,
  });
}

function shopKeysFrom(config: IdentityConfig): JWTVerifyGetKey {
  if (config.SHOPPER_TOKEN_JWKS_URL) {
    return createRemoteJWKSet(new URL(config.SHOPPER_TOKEN_JWKS_URL), {
      timeoutDuration: 3_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  }
  const text = config.SHOPPER_TOKEN_JWKS ?? readFileSync(config.SHOPPER_TOKEN_JWKS_FILE as string, 'utf8');
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(text) as JSONWebKeySet;
  } catch {
    throw new ConfigError('invalid configuration: SHOPPER_TOKEN_JWKS is not a JSON Web Key Set');
  }
  if (!Array.isArray(jwks.keys) || jwks.keys.some((key) => key.kty === 'oct')) {
    throw new ConfigError('invalid configuration: SHOPPER_TOKEN_JWKS must be a JSON Web Key Set of public keys');
  }
  return createLocalJWKSet(jwks);
}
