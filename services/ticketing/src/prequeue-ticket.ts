import { jwtVerify, SignJWT } from 'jose';
import { errors, type TicketKeyring } from '@quickdeal/core';

/** A pre-queue ticket's JWT type: never accepted where a ticket with a queue number is asked for. */
const prequeueType = 'quickdeal-prequeue+jwt';
const issuer = 'quickdeal';

export interface PrequeueClaims {
  sub: string;
  deal: string;
  jti: string;
  iat: number;
  exp: number;
}

/**
 * Signed pre-queue tickets: proof that a shopper joined a deal's pre-queue. It carries no queue
 * number (the draw gives one at the open), has a type of its own, and, lacking `qn`, fails the
 * ticket verifier everywhere a place in line is needed (checkout, orders, status).
 */
export class PrequeueTickets {
  constructor(private readonly keyring: TicketKeyring) {}

  async sign(claims: PrequeueClaims): Promise<string> {
    const signing = this.keyring.signing;
    if (!signing) throw new Error('this keyring has no signing key');
    return new SignJWT({ deal: claims.deal, prequeue: true })
      .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: prequeueType })
      .setIssuer(issuer)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(signing.key);
  }

  /** Verifies a pre-queue ticket for this deal and shopper: 401 when forged or expired, 403 when someone else's. */
  async verify(token: string, dealId: string, shopperId: string): Promise<PrequeueClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.key(header.kid), { issuer, typ: prequeueType, algorithms: ['EdDSA'] }));
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWT_EXPIRED') {
        throw errors.unauthorized('TICKET_EXPIRED', 'This pre-queue ticket has expired');
      }
      throw errors.unauthorized('TICKET_INVALID', 'This is not a valid pre-queue ticket');
    }
    const { sub, deal, jti, iat, exp } = payload;
    if (
      typeof sub !== 'string' ||
      typeof deal !== 'string' ||
      typeof jti !== 'string' ||
      typeof iat !== 'number' ||
      typeof exp !== 'number'
    ) {
      throw errors.unauthorized('TICKET_INVALID', 'The pre-queue ticket’s claims are incomplete');
    }
    if (deal !== dealId) throw errors.forbidden('TICKET_FOREIGN', 'This pre-queue ticket is for another deal');
    if (sub !== shopperId) throw errors.forbidden('TICKET_NOT_YOURS', 'This pre-queue ticket belongs to another shopper');
    return { sub, deal, jti, iat, exp };
  }

  private key(kid: string | undefined) {
    const key = this.keyring.verificationKey(kid);
    if (!key) throw new Error('unknown key');
    return key;
  }
}
