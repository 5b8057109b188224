import { decodeJwt, jwtVerify, createLocalJWKSet, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TicketKeyring, TicketSigner } from '@quickdeal/core';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

/** Runs `test` in a waiting room of its own (no admission), closed after it. */
async function inOwnRoom(options: Parameters<typeof startWaitingRoom>[0], test: (own: WaitingRoom) => Promise<void>): Promise<void> {
  const own = await startWaitingRoom({ startAdmission: false, ...options });
  try {
    await test(own);
  } finally {
    await own.close();
  }
}

describe('issuing tickets', () => {
  it('answers 201 with a signed ticket whose queue number is its Kafka offset + 1, and 200 with the same ticket on a retry', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const first = await room.takeTicket(dealId, 'alice');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: 1, position: 1 });
    expect(first.body.pollAfterMs).toBeGreaterThanOrEqual(1000);

    const { payload, protectedHeader } = await jwtVerify(first.body.ticket, createLocalJWKSet(room.keyring.jwks()), {
      issuer: 'quickdeal',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: expect.any(String) });
    expect(payload).toMatchObject({
      sub: 'alice',
      deal: dealId,
      qn: 1,
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(payload.exp! - payload.iat!).toBe(2 * 3600);

    const again = await room.takeTicket(dealId, 'alice');
    expect(again.status).toBe(200);
    expect(again.body.ticket).toBe(first.body.ticket);

    const second = await room.takeTicket(dealId, 'bob');
    expect(second.status).toBe(201);
    expect(second.body.queueNumber).toBe(2);

    // the topic holds exactly the two tickets, in queue order
    const offsets = await room.admin.fetchTopicOffsets(room.registry.topicFor(dealId));
    expect(offsets[0]?.high).toBe('2');
  });

  it('gives one shopper one ticket even when they ask many times at once', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => room.takeTicket(dealId, 'eager')));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(11);
    expect(new Set(answers.map((a) => a.body.ticket)).size).toBe(1);
    const offsets = await room.admin.fetchTopicOffsets(room.registry.topicFor(dealId));
    expect(offsets[0]?.high).toBe('1');
  });

  it('numbers concurrent shoppers uniquely and consecutively, matching the log', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => room.takeTicket(dealId, `shopper-${i}`)));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const numbers = answers.map((a) => a.body.queueNumber as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    for (const answer of answers) expect(decodeJwt(answer.body.ticket).qn).toBe(answer.body.queueNumber);
    // the message at offset qn-1 names the shopper who holds queue number qn
    const consumer = room.kafka.consumer({ groupId: `${room.groupId}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [room.registry.topicFor(dealId)], fromBeginning: true });
    const owners = new Map<number, string>();
    await consumer.run({
      eachMessage: async ({ message }) => void owners.set(Number(message.offset) + 1, JSON.parse(message.value!.toString()).sub),
    });
    await room.waitFor(
      async () => owners.size,
      (n) => n === 200,
    );
    await consumer.disconnect();
    for (const answer of answers) expect(owners.get(answer.body.queueNumber)).toBe(decodeJwt(answer.body.ticket).sub);
  });

  it('refuses bad requests with a clear 4xx and queues nothing', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const topic = room.registry.topicFor(dealId);
    const missing = await room.ticketing.request(`/api/v1/deals/${dealId}/tickets`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error).toMatchObject({ code: 'SHOPPER_ID_MISSING', requestId: expect.any(String) });
    const malformed = await room.takeTicket(dealId, 'bad id with spaces');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('SHOPPER_ID_INVALID');
    const tooLong = await room.takeTicket(dealId, 'x'.repeat(129));
    expect(tooLong.status).toBe(400);
    const unknown = await room.takeTicket('no-such-deal', 'alice');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('DEAL_NOT_FOUND');
    const badName = await room.takeTicket('Not_A_Deal', 'alice');
    expect(badName.status).toBe(404);
    expect((await room.admin.fetchTopicOffsets(topic))[0]?.high).toBe('0');
  });

  it('says DEAL_NOT_OPEN with opensAt before the deal opens, and DEAL_CLOSED after it closes', async () => {
    const opensAt = new Date(Date.now() + 3_600_000).toISOString();
    const { dealId } = await room.createDeal({ stock: 10, opensAt });
    const early = await room.takeTicket(dealId, 'alice');
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'DEAL_NOT_OPEN', opensAt: new Date(opensAt).toISOString() });

    const closed = await room.createDeal({
      stock: 10,
      opensAt: new Date(Date.now() - 7_200_000).toISOString(),
      closesAt: new Date(Date.now() - 1_000).toISOString(),
    });
    const late = await room.takeTicket(closed.dealId, 'alice');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('DEAL_CLOSED');
  });

  it('answers 410 ITEM_SOLD_OUT once sold equals stock, without queueing', async () => {
    const { dealId } = await room.createDeal({ stock: 0 });
    const answer = await room.takeTicket(dealId, 'alice');
    expect(answer.status).toBe(410);
    expect(answer.body.error.code).toBe('ITEM_SOLD_OUT');
    expect((await room.admin.fetchTopicOffsets(room.registry.topicFor(dealId)))[0]?.high).toBe('0');
  });

  it('limits how often one shopper may ask, with 429 and Retry-After', () =>
    inOwnRoom({ ticketsPerShopperPerMinute: 3 }, async (limited) => {
      const { dealId } = await limited.createDeal({ stock: 10 });
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await limited.takeTicket(dealId, 'hammer'));
      expect(answers.map((a) => a.status)).toEqual([201, 200, 200, 429, 429]);
      expect(Number(answers[3]!.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      expect(answers[3]!.body.error.code).toBe('RATE_LIMITED');
      expect((await limited.takeTicket(dealId, 'someone-else')).status).toBe(201);
    }));

  it('limits one client address across shoppers, with 429 and Retry-After', () =>
    inOwnRoom({ requestsPerClientPerSecond: 3 }, async (limited) => {
      const { dealId } = await limited.createDeal({ stock: 10 });
      const from = (address: string, shopper: string) => limited.takeTicket(dealId, shopper, { headers: { 'X-Forwarded-For': address } });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await from('203.0.113.7', `nat-${i}`)).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      expect((await from('198.51.100.1', 'elsewhere')).status).toBe(201);
    }));

  it('asks shoppers beyond the tickets in progress to come back later (429 BUSY, Retry-After), holding nothing for them', () =>
    inOwnRoom({ maxTicketsInProgress: 4 }, async (crowded) => {
      const { dealId } = await crowded.createDeal({ stock: 10 });
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => crowded.takeTicket(dealId, `crowd-${i}`)));
      const busy = answers.filter((a) => a.status === 429);
      const issued = answers.filter((a) => a.status === 201);
      expect(busy.length).toBeGreaterThan(0);
      expect(issued.length).toBeGreaterThanOrEqual(4);
      expect(busy.length + issued.length).toBe(40);
      for (const answer of busy) {
        expect(answer.body.error.code).toBe('BUSY');
        expect(Number(answer.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      }
      // those turned away hold no ticket; those let in are numbered 1, 2, 3 … with no gap
      const turnedAway = answers.flatMap((a, i) => (a.status === 429 ? [`crowd-${i}`] : []));
      for (const shopper of turnedAway) expect(await crowded.store.shopperTicket(dealId, shopper)).toBeUndefined();
      expect(issued.map((a) => a.body.queueNumber as number).sort((a, b) => a - b)).toEqual(issued.map((_, i) => i + 1));
      // and the door lets them in once it is free
      const again = await crowded.takeTicket(dealId, turnedAway[0]!);
      expect(again.status).toBe(201);
      expect(again.body.queueNumber).toBe(issued.length + 1);
    }));

  it('serves its public keys at /.well-known/jwks.json', async () => {
    const response = await room.ticketing.request('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    const jwks = await response.json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });
});

describe('polling a ticket', () => {
  it('answers a waiting shopper from memory, without Redis', () =>
    inOwnRoom({ dealRefreshMs: 60_000 }, async (quiet) => {
      const { dealId } = await quiet.createDeal({ stock: 5, admission: { maxActiveShoppers: 2, checkoutWindow: '1m' } });
      const tickets = [];
      for (let i = 0; i < 30; i++) tickets.push((await quiet.takeTicket(dealId, `s${i}`)).body.ticket as string);
      await quiet.status(dealId, 's29', tickets[29]!); // first poll may load the deal
      const reads = vi.spyOn(quiet.ticketingStore, 'shopperTicket');
      const snapshots = vi.spyOn(quiet.ticketingStore, 'snapshot');
      const redisCalls = vi.spyOn(quiet.ticketingStore.redis, 'sendCommand');
      for (let i = 0; i < 50; i++) {
        const poll = await quiet.status(dealId, 's29', tickets[29]!);
        expect(poll.status).toBe(200);
        expect(poll.body).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: 30, position: 30, unitsLeft: 5 });
      }
      expect(reads).not.toHaveBeenCalled();
      expect(snapshots).not.toHaveBeenCalled();
      expect(redisCalls).not.toHaveBeenCalled();
      const near = await quiet.status(dealId, 's0', tickets[0]!);
      expect(near.body.pollAfterMs).toBeLessThan((await quiet.status(dealId, 's29', tickets[29]!)).body.pollAfterMs);
    }));

  it('refuses forged, expired, foreign and other shoppers’ tickets', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    const other = await room.createDeal({ stock: 5 });
    const ticket = (await room.takeTicket(dealId, 'alice')).body.ticket as string;

    const forgedKeyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    const now = Math.floor(Date.now() / 1000);
    const forged = new TicketSigner(forgedKeyring).sign({ sub: 'alice', deal: dealId, qn: 1, jti: 'x', iat: now, exp: now + 60 });
    expect((await room.status(dealId, 'alice', forged)).body.error.code).toBe('TICKET_INVALID');
    const tampered = ticket.slice(0, -4) + (ticket.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await room.status(dealId, 'alice', tampered)).status).toBe(401);
    expect((await room.status(dealId, 'alice', 'not-a-token')).body.error.code).toBe('TICKET_INVALID');

    const signing = room.keyring.signing!;
    const expired = await new SignJWT({ deal: dealId, qn: 99 })
      .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid })
      .setIssuer('quickdeal')
      .setSubject('alice')
      .setJti('old')
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 10)
      .sign(signing.key);
    const expiredAnswer = await room.status(dealId, 'alice', expired);
    expect(expiredAnswer.status).toBe(401);
    expect(expiredAnswer.body.error.code).toBe('TICKET_EXPIRED');

    const foreign = await room.status(other.dealId, 'alice', ticket);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('TICKET_FOREIGN');
    const stolen = await room.status(dealId, 'mallory', ticket);
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe('TICKET_NOT_YOURS');
    const noTicket = await room.ticketing.request(`/api/v1/deals/${dealId}/tickets/status`, { headers: { 'X-User-Id': 'alice' } });
    expect(noTicket.status).toBe(401);
  });
});

describe('a reservation the Redis client sends twice', () => {
  // ioredis re-sends a command whose reply a dropped connection lost; Redis may have run it already.
  it('is the same reservation, not "pending" for the shopper who made it; another request still waits', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    expect(await room.store.reserveTicket(dealId, 'resent', 'jti-1')).toEqual({ outcome: 'reserved' });
    expect(await room.store.reserveTicket(dealId, 'resent', 'jti-1')).toEqual({ outcome: 'reserved' });
    expect(await room.store.reserveTicket(dealId, 'resent', 'jti-2')).toEqual({ outcome: 'pending' });
  });
});
