/**
 * Shoppers named by the shop's own session token (token mode) in the in-process waiting room:
 * a valid token walks ticket → status → checkout → pay; every forged, foreign or expired token,
 * and a client-sent X-User-Id, is refused and changes nothing.
 */
import { createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenIdentity } from '@quickdeal/core';
import { createShopSessions, type ShopSessions, startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;
let shop: ShopSessions;
let forger: ShopSessions;

beforeAll(async () => {
  shop = await createShopSessions();
  forger = await createShopSessions({ kid: 'shop-key-1' });
  room = await startWaitingRoom({
    identity: tokenIdentity({ keys: createLocalJWKSet(shop.jwks), issuer: shop.issuer, audience: shop.audience, algorithms: ['RS256'] }),
    shopperHeaders: async (shopperId) => ({ 'X-Session-Token': await shop.sign(shopperId) }),
  });
});
afterAll(async () => {
  await room?.close();
});

/** A request to a room app with exactly these headers. */
async function call(app: 'ticketing' | 'payment', path: string, init: RequestInit) {
  const response = await room[app].request(path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('token identity, end to end', () => {
  it('walks a shopper with a valid session token from ticket to paid order', async () => {
    const { dealId } = await room.createDeal({ stock: 2 });
    const ticket = await room.takeTicket(dealId, 'alice');
    expect(ticket.status).toBe(201);
    const granted = await room.waitFor(
      () => room.status(dealId, 'alice', ticket.body.ticket),
      (s) => s.body.status === 'ACCESS_GRANTED',
    );
    expect(granted.status).toBe(200);
    expect((await room.checkout(dealId, 'alice', ticket.body.ticket)).status).toBe(200);
    const paid = await room.pay(dealId, 'alice', ticket.body.ticket);
    expect(paid.status).toBe(201);
    expect((await room.status(dealId, 'alice', ticket.body.ticket)).body.status).toBe('PURCHASED');
  });

  it('refuses a ticket for a forged, foreign or expired session, or a client-sent X-User-Id, and issues nothing', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    const past = Math.floor(Date.now() / 1000) - 300;
    const attempts: Array<[string, Record<string, string>, number, string]> = [
      ['another issuer', { 'X-Session-Token': await shop.sign('mallory', { issuer: 'https://evil.example.com' }) }, 401, 'SESSION_INVALID'],
      ['another audience', { 'X-Session-Token': await shop.sign('mallory', { audience: 'other-app' }) }, 401, 'SESSION_INVALID'],
      ['another key', { 'X-Session-Token': await forger.sign('mallory') }, 401, 'SESSION_INVALID'],
      ['alg: none', { 'X-Session-Token': shop.unsigned('mallory') }, 401, 'SESSION_INVALID'],
      ['HS256 keyed with the public key', { 'X-Session-Token': await shop.hs256WithPublicKey('mallory') }, 401, 'SESSION_INVALID'],
      ['expired', { 'X-Session-Token': await shop.sign('mallory', { expiresAt: past }) }, 401, 'SESSION_EXPIRED'],
      ['X-User-Id alone', { 'X-User-Id': 'mallory' }, 400, 'SHOPPER_ID_NOT_ACCEPTED'],
      [
        'X-User-Id beside a valid token',
        { 'X-Session-Token': await shop.sign('someone'), 'X-User-Id': 'mallory' },
        400,
        'SHOPPER_ID_NOT_ACCEPTED',
      ],
    ];
    for (const [name, headers, status, code] of attempts) {
      const answer = await call('ticketing', `/api/v1/deals/${dealId}/tickets`, { method: 'POST', headers });
      expect([name, answer.status, answer.body.error.code]).toEqual([name, status, code]);
    }
    expect(await room.store.shopperTicket(dealId, 'mallory')).toBeUndefined();
    expect(await room.store.shopperTicket(dealId, 'someone')).toBeUndefined();
    const offsets = await room.admin.fetchTopicOffsets(room.registry.topicFor(dealId));
    expect(offsets[0]?.high).toBe('0');
  });

  it('lets nobody read, cancel or pay with another shopper ticket by naming them', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    const ticket = (await room.takeTicket(dealId, 'victim')).body.ticket as string;
    await room.waitFor(
      () => room.store.shopperTicket(dealId, 'victim'),
      (r) => r?.state === 'admitted',
    );
    const asMallory = { 'X-Session-Token': await shop.sign('mallory'), Authorization: `Bearer ${ticket}` };
    const asVictimByHeader = { 'X-User-Id': 'victim', Authorization: `Bearer ${ticket}` };
    for (const headers of [asMallory, asVictimByHeader]) {
      const status = await call('ticketing', `/api/v1/deals/${dealId}/tickets/status`, { headers });
      const cancel = await call('payment', `/api/v1/deals/${dealId}/checkout`, { method: 'DELETE', headers });
      const pay = await call('payment', `/api/v1/deals/${dealId}/orders`, {
        method: 'POST',
        headers: { ...headers, 'Idempotency-Key': 'k-1' },
      });
      for (const answer of [status, cancel, pay]) expect([403, 400]).toContain(answer.status);
    }
    // a ticket request "as the victim" gets nothing back without the victim session
    const stolen = await call('ticketing', `/api/v1/deals/${dealId}/tickets`, { method: 'POST', headers: { 'X-User-Id': 'victim' } });
    expect(stolen.status).toBe(400);
    expect(JSON.stringify(stolen.body)).not.toContain(ticket);
    expect(await room.store.shopperTicket(dealId, 'victim')).toMatchObject({ state: 'admitted' });
  });
});
