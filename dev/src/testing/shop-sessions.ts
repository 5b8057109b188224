/**
 * A stand-in for a shop's sign-in: a real key pair, its public JWKS, and session tokens it signs,
 * so tests exercise the token identity with real keys (and forgeries made with other ones).
 */
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';

export interface ShopSessions {
  issuer: string;
  audience: string;
  /** The public keys, as the shop serves them at its JWKS URL. */
  jwks: { keys: JWK[] };
  publicJwk: JWK;
  /** A session token for a shopper (in `sub`), valid for an hour unless said otherwise. */
  sign(shopperId: string, overrides?: { issuer?: string; audience?: string; expiresAt?: number; claims?: JWTPayload }): Promise<string>;
  /** Forgeries: an unsigned token (`alg: none`), and HS256 keyed with the shop's public key (key confusion). */
  unsigned(shopperId: string): string;
  hs256WithPublicKey(shopperId: string): Promise<string>;
}

export async function createShopSessions(options: { issuer?: string; audience?: string; kid?: string } = {}): Promise<ShopSessions> {
  const issuer = options.issuer ?? 'https://shop.example.com';
  const audience = options.audience ?? 'quickdeal';
  const kid = options.kid ?? 'shop-key-1';
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const claimsOf = (sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: issuer, aud: audience, sub, iat: now, exp: now + 3600 };
  };
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return {
    issuer,
    audience,
    jwks: { keys: [publicJwk] },
    publicJwk,
    sign: (shopperId, overrides = {}) =>
      new SignJWT({ ...overrides.claims })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(overrides.issuer ?? issuer)
        .setAudience(overrides.audience ?? audience)
        .setSubject(shopperId)
        .setIssuedAt()
        .setExpirationTime(overrides.expiresAt ?? Math.floor(Date.now() / 1000) + 3600)
        .sign(privateKey),
    unsigned: (shopperId) => `${part({ alg: 'none', typ: 'JWT' })}.${part(claimsOf(shopperId))}.`,
    hs256WithPublicKey: (shopperId) =>
      new SignJWT(claimsOf(shopperId)).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
  };
}
