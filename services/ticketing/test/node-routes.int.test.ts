import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketKeyring, TicketSigner } from '@quickdeal/core';
import { serveService, startWaitingRoom, type ServedService, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;
let served: ServedService;
let url: string;
/** The requests ticketing's node routes answered themselves. */
let taken: string[];

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false, pollsPerShopperPer10s: 5 });
  if (!room.services.ticketing.nodeRoutes) throw new Error('ticketing has no node routes');
  served = await serveService(room.services.ticketing);
  ({ url, taken } = served);
});

afterAll(async () => {
  await served?.close();
  await room?.close();
});

interface Seen {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown> & { error?: Record<string, unknown> };
}

async function seen(response: Response): Promise<Seen> {
  const body = (await response.json()) as Seen['body'];
  if (body.error) body.error.requestId = typeof body.error.requestId;
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

const overHttp = async (path: string, init: RequestInit) => seen(await fetch(`${url}${path}`, init));
const throughHono = async (path: string, init: RequestInit) => seen(await room.ticketing.request(path, init));

const as = (shopperId: string, ticket?: string): RequestInit => ({
  headers: { 'X-User-Id': shopperId, ...(ticket ? { Authorization: `Bearer ${ticket}` } : {}) },
});

describe("ticketing's door and poll on node:http", () => {
  it('issue tickets as the Hono routes do: 201 with the next place in line, 200 with the same ticket again', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const path = `/api/v1/deals/${dealId}/tickets`;
    const alice = await overHttp(path, { method: 'POST', ...as('alice') });
    const bob = await throughHono(path, { method: 'POST', ...as('bob') });
    expect(alice).toMatchObject({ status: 201, body: { status: 'ACCESS_DENIED', queueNumber: 1, ticket: expect.any(String) } });
    expect(bob).toMatchObject({ status: 201, body: { status: 'ACCESS_DENIED', queueNumber: 2 } });
    expect(Object.keys(alice.body).sort()).toEqual(Object.keys(bob.body).sort());

    const aliceAgain = await overHttp(path, { method: 'POST', ...as('alice') });
    expect(aliceAgain).toMatchObject({ status: 200, body: { ticket: alice.body.ticket, queueNumber: 1 } });
    expect(await throughHono(path, { method: 'POST', ...as('alice') })).toEqual(aliceAgain);
    expect(taken).toContain(`POST ${path}`);
  });

  it('answer a poll, and every refusal of one, as the Hono route does', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const { dealId: otherDealId } = await room.createDeal({ stock: 10 });
    const alice = (await room.takeTicket(dealId, 'alice')).body.ticket as string;
    const aliceElsewhere = (await room.takeTicket(otherDealId, 'alice')).body.ticket as string;
    const forgedKeyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
    const now = Math.floor(Date.now() / 1000);
    const forged = new TicketSigner(forgedKeyring).sign({ sub: 'alice', deal: dealId, qn: 1, jti: 'x', iat: now, exp: now + 60 });
    const status = (deal: string) => `/api/v1/deals/${deal}/tickets/status`;

    const cases: Array<[string, string, RequestInit, number]> = [
      ['in line', status(dealId), as('alice', alice), 200],
      ['no ticket', status(dealId), as('alice'), 401],
      ['a forged ticket', status(dealId), as('alice', forged), 401],
      ['a garbled ticket', status(dealId), as('alice', 'not.a.ticket'), 401],
      ["another shopper's ticket", status(dealId), as('bob', alice), 403],
      ["another deal's ticket", status(dealId), as('alice', aliceElsewhere), 403],
      ['no shopper', status(dealId), { headers: { Authorization: `Bearer ${alice}` } }, 401],
      ['an unknown deal', status('no-such-deal'), as('alice', alice), 403],
    ];
    for (const [what, path, init, expected] of cases) {
      const before = taken.length;
      const node = await overHttp(path, init);
      expect(taken.length, what).toBe(before + 1);
      expect(node.status, what).toBe(expected);
      expect(node, what).toEqual(await throughHono(path, init));
    }
  });

  it("keep the shopper's poll limit, answered 429 with Retry-After", async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const ticket = (await room.takeTicket(dealId, 'carol')).body.ticket as string;
    const path = `/api/v1/deals/${dealId}/tickets/status`;
    const answers: Seen[] = [];
    for (let i = 0; i < 6; i++) answers.push(await overHttp(path, as('carol', ticket)));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[5]).toMatchObject({
      status: 429,
      retryAfter: expect.stringMatching(/^\d+$/),
      body: { error: { code: 'RATE_LIMITED' } },
    });
    // the limit is one count for both transports
    expect((await throughHono(path, as('carol', ticket))).status).toBe(429);
  });

  it('write the answer to a poll of a ticket verified before within the same tick: no promise in between', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const ticket = (await room.takeTicket(dealId, 'dora')).body.ticket as string;
    const path = `/api/v1/deals/${dealId}/tickets/status`;
    expect((await overHttp(path, as('dora', ticket))).status).toBe(200); // verifies the ticket, follows the deal

    const request = new IncomingMessage(new Socket());
    Object.assign(request, { method: 'GET', url: path, headers: { 'x-user-id': 'dora', authorization: `Bearer ${ticket}` } });
    const written: Array<{ status: number; body: string }> = [];
    let status = 0;
    const response = {
      writeHead: (code: number) => (status = code),
      end: (body: string) => written.push({ status, body }),
      destroy: () => written.push({ status: -1, body: 'destroyed' }),
    } as unknown as ServerResponse;

    expect(room.services.ticketing.nodeRoutes?.(request, response)).toBe(true);
    expect(written).toHaveLength(1);
    expect(written[0]?.status).toBe(200);
    expect(JSON.parse(written[0]?.body ?? '{}')).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: 1 });
  });
});
