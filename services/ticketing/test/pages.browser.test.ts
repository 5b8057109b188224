/**
 * The waiting-room and checkout pages in Debian's Chromium, against a whole waiting room (real
 * Kafka, Redis and Postgres; ticketing and payment over HTTP behind the local gateway). Screenshots
 * of each screen land in .quickdeal/screenshots/ for a person to look at.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet } from 'jose';
import { tokenIdentity } from '@quickdeal/core';
import {
  createShopSessions,
  startHttpStack,
  startWaitingRoom,
  uniqueName,
  type HttpStack,
  type ShopSessions,
  type WaitingRoom,
} from '@quickdeal/dev/testing';
import { messages } from '../src/pages/index.js';
import { pagesInChromium, screen, shows, snap, text } from './pages-in-chromium.js';

const chromium = pagesInChromium();
const KOREAN_PHONE = { name: '퀵딜 데모폰 256GB', price: 1_550_000, currency: 'KRW' };

async function joinLine(page: Page, dealId: string, shopperId: string): Promise<void> {
  await page.goto(`${chromium.stack.url}/deals/${dealId}`);
  await shows(page, 'join');
  await page.locator('#shopper').fill(shopperId);
  await page.locator('#join').click();
}

const storedTicket = (page: Page, dealId: string) =>
  page.evaluate(
    (key) => JSON.parse(sessionStorage.getItem(key) ?? 'null') as { ticket: string; queueNumber: number } | null,
    `quickdeal.ticket.${dealId}`,
  );

/** Waits until an API shopper's checkout is open, then gives it up, letting the next one in. */
async function admitAndCancel(dealId: string, shopperId: string, ticket: string): Promise<void> {
  await chromium.room.waitFor(
    () => chromium.room.status(dealId, shopperId, ticket),
    (r) => r.body.status === 'ACCESS_GRANTED',
    30_000,
  );
  expect((await chromium.room.cancel(dealId, shopperId, ticket)).status).toBe(204);
}

async function soldCount(dealId: string): Promise<number> {
  const row = await chromium.room.db
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('deal_id', '=', dealId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('the waiting room and checkout in Chromium', () => {
  it('a shopper joins, waits behind others, is admitted and pays (after a declined card)', async () => {
    const { dealId } = await chromium.room.createDeal({
      stock: 5,
      product: KOREAN_PHONE,
      admission: { maxActiveShoppers: 1, checkoutWindow: '15s' },
    });
    const ko = messages.ko;

    // Alice is first: admitted at once, she is taken to checkout.
    const alice = await chromium.shopperTab('ko-KR');
    await joinLine(alice, dealId, uniqueName('alice'));
    await alice.waitForFunction((key) => sessionStorage.getItem(key) !== null, `quickdeal.ticket.${dealId}`);

    // Two shoppers (through the API) and then Bob, in a tab of his own, queue behind her.
    const xavier = uniqueName('xavier');
    const yuna = uniqueName('yuna');
    const x = await chromium.room.takeTicket(dealId, xavier);
    const y = await chromium.room.takeTicket(dealId, yuna);
    const bob = await chromium.shopperTab('ko-KR');
    await joinLine(bob, dealId, uniqueName('bob'));
    await shows(bob, 'waiting');
    expect(await text(bob, '#queue-number')).toBe('4');
    await bob.waitForFunction(() => document.querySelector('#ahead')?.textContent === '2명');
    expect(await text(bob, '#units')).toBe('5개');
    expect(await bob.locator('#eta').textContent()).toMatch(/분/);
    expect(Number(await bob.locator('#progress').getAttribute('value'))).toBeGreaterThan(0);
    expect(await bob.title()).toContain('대기 중');
    await snap(bob, 'waiting-ko');

    // Alice's checkout: product, price, a running countdown.
    await alice.waitForURL(`**/deals/${dealId}/checkout`, { timeout: 30_000 });
    await shows(alice, 'checkout');
    expect(await text(alice, 'h1')).toBe(KOREAN_PHONE.name);
    expect(await text(alice, '.price')).toBe('₩1,550,000');
    expect(await text(alice, '#pay')).toBe('₩1,550,000 결제하기');
    const before = await text(alice, '#countdown');
    expect(before).toMatch(/^0:1\d$|^0:0\d$/);
    await alice.waitForFunction((first) => document.querySelector('#countdown')?.textContent !== first, before);
    await snap(alice, 'checkout-ko');

    // A declined card is explained, and the unit stays hers.
    await alice.locator('input[value="tok_decline"]').check();
    await alice.locator('#pay').click();
    await alice.locator('#pay-problem').waitFor({ state: 'visible' });
    expect(await text(alice, '#pay-problem')).toContain('거절');
    expect(await text(alice, '#pay-problem')).not.toMatch(/PAYMENT_DECLINED|402/);
    await snap(alice, 'checkout-declined-ko');

    await alice.locator('input[value="tok_approve"]').check();
    await alice.locator('#pay').click();
    await shows(alice, 'paid');
    expect(await text(alice, '#paid-heading')).toBe(ko.paidHeading);
    expect(await text(alice, '#order-id')).toMatch(/^[0-9a-f-]{36}$/);
    await snap(alice, 'paid-ko');

    // The two ahead of Bob get their turn and give it up; then it is Bob's.
    await admitAndCancel(dealId, xavier, x.body.ticket);
    await admitAndCancel(dealId, yuna, y.body.ticket);
    await shows(bob, 'granted');
    // read before the screenshot: the "your turn" screen moves on to checkout by itself after a moment
    expect(await text(bob, '#granted-heading')).toBe(ko.grantedHeading);
    await snap(bob, 'granted-ko');
    await bob.waitForURL(`**/deals/${dealId}/checkout`);
    await shows(bob, 'checkout');
    await bob.locator('#pay').click();
    await shows(bob, 'paid');

    expect(await soldCount(dealId)).toBe(2);
  });

  it('a shopper waiting for the last unit meets sold out, and so does one who comes later', async () => {
    const { dealId } = await chromium.room.createDeal({ stock: 1, admission: { maxActiveShoppers: 1, checkoutWindow: '30s' } });
    const first = uniqueName('first');
    const ticket = (await chromium.room.takeTicket(dealId, first)).body.ticket as string;
    await chromium.room.waitFor(
      () => chromium.room.status(dealId, first, ticket),
      (r) => r.body.status === 'ACCESS_GRANTED',
    );

    const waiting = await chromium.shopperTab('ko-KR');
    await joinLine(waiting, dealId, uniqueName('waiting'));
    await shows(waiting, 'waiting');
    expect(await text(waiting, '#ahead')).toBe(messages.ko.next);

    expect((await chromium.room.pay(dealId, first, ticket)).status).toBe(201);
    await shows(waiting, 'soldout');
    expect(await text(waiting, '#soldout-heading')).toBe(messages.ko.soldOutHeading);
    await snap(waiting, 'soldout-ko');

    const late = await chromium.shopperTab('en-US');
    await joinLine(late, dealId, uniqueName('late'));
    await shows(late, 'soldout');
    expect(await text(late, '#soldout-heading')).toBe('Sold out');
    await snap(late, 'soldout-en');
  });

  it('a reload keeps the place in line: the same ticket and queue number, no new ticket', async () => {
    const { dealId } = await chromium.room.createDeal({ stock: 5, admission: { maxActiveShoppers: 1, checkoutWindow: '30s' } });
    const holder = uniqueName('holder');
    await chromium.room.takeTicket(dealId, holder);

    const page = await chromium.shopperTab('en-US', { viewport: { width: 1024, height: 768 } });
    await joinLine(page, dealId, uniqueName('reloader'));
    await shows(page, 'waiting');
    const number = await text(page, '#queue-number');
    expect(number).toBe('2');
    const saved = await storedTicket(page, dealId);
    await snap(page, 'waiting-en-desktop');

    await page.reload();
    await shows(page, 'waiting');
    expect(await text(page, '#queue-number')).toBe(number);
    expect((await storedTicket(page, dealId))?.ticket).toBe(saved?.ticket);
    expect(await screen(page, 'join').isVisible()).toBe(false);
    const offsets = await chromium.room.admin.fetchTopicOffsets(chromium.room.registry.topicFor(dealId));
    expect(offsets[0]?.high).toBe('2'); // two tickets in the line, not three
  });

  it('when the countdown runs out the unit goes to the next shopper in line', async () => {
    const { dealId } = await chromium.room.createDeal({ stock: 1, admission: { maxActiveShoppers: 1, checkoutWindow: '5s' } });
    const slow = await chromium.shopperTab('en-US');
    const slowId = uniqueName('slow');
    await joinLine(slow, dealId, slowId);
    const next = await chromium.shopperTab('en-US');
    await joinLine(next, dealId, uniqueName('next'));
    await shows(next, 'waiting');
    expect(await text(next, '#ahead')).toBe(messages.en.next);

    // "your turn" shows for a moment only, then checkout (a loaded machine may miss it between two looks)
    await shows(slow, 'checkout');
    const slowTicket = (await storedTicket(slow, dealId))?.ticket ?? '';
    expect(await text(slow, '#countdown')).toMatch(/^0:0[1-5]$/);
    await shows(slow, 'timeup', 10_000);
    expect(await text(slow, '#countdown')).toBe('0:00');
    await snap(slow, 'timeup-en');
    expect((await chromium.room.pay(dealId, slowId, slowTicket)).status).toBe(410);

    await shows(next, 'checkout');
    await next.locator('#pay').click();
    await shows(next, 'paid');
    expect(await soldCount(dealId)).toBe(1);
  });

  it('behind an authenticating gateway: waits for the opening by itself, joins, and can give the unit up', async () => {
    // (The server's pollAfterMs at the front is a fifth of the estimate, which a lone slot's window sets: keep it short.)
    const { dealId } = await chromium.room.createDeal({
      stock: 1,
      opensAt: new Date(Date.now() + 3_000).toISOString(),
      admission: { maxActiveShoppers: 1, checkoutWindow: '15s' },
    });
    const shopperId = uniqueName('signed-in');
    const page = await chromium.shopperTab('en-US', { gatewayUser: shopperId });
    await page.goto(`${chromium.stack.url}/deals/${dealId}`);
    await shows(page, 'notopen');
    expect(await page.locator('#shopper').count()).toBe(0);
    expect(await text(page, '#opens-in')).toMatch(/^0:0[0-3]$/);
    await snap(page, 'notopen-en');

    // At the opening the page asks for its ticket by itself (within a few seconds' spread) and is let in.
    await shows(page, 'granted', 15_000);
    const ticket = (await storedTicket(page, dealId))?.ticket ?? '';
    expect((await chromium.room.status(dealId, shopperId, ticket)).body.status).toBe('ACCESS_GRANTED');
    await shows(page, 'checkout');
    expect(await page.locator('input[name="card"]').count()).toBe(0); // test cards only in the local demo

    // Giving up asks first, then hands the unit to the next shopper.
    await page.locator('#cancel').click();
    await page.locator('#confirm-cancel').waitFor({ state: 'visible' });
    await page.locator('#cancel-no').click();
    expect(await screen(page, 'checkout').isVisible()).toBe(true);
    await page.locator('#cancel').click();
    await page.locator('#cancel-yes').click();
    await shows(page, 'cancelled');
    const after = uniqueName('after');
    const next = await chromium.room.takeTicket(dealId, after);
    await chromium.room.waitFor(
      () => chromium.room.status(dealId, after, next.body.ticket),
      (r) => r.body.status === 'ACCESS_GRANTED',
    );
  });

  it('speaks Korean or English as Accept-Language asks', async () => {
    const { dealId } = await chromium.room.createDeal({ stock: 3, product: KOREAN_PHONE });
    for (const [locale, lang] of [
      ['ko-KR', 'ko'],
      ['en-US', 'en'],
    ] as const) {
      const page = await chromium.shopperTab(locale);
      await page.goto(`${chromium.stack.url}/deals/${dealId}`);
      await shows(page, 'join');
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      expect(await text(page, '#join-heading')).toBe(messages[lang].joinHeading);
      expect(await text(page, '#join')).toBe(messages[lang].joinButton);
      expect(await text(page, '.price')).toBe('₩1,550,000');
      await snap(page, `join-${lang}`);
    }
  });
});

describe('a shopper signed in at the shop (token mode)', () => {
  let shop: ShopSessions;
  let tokenRoom: WaitingRoom;
  let tokenStack: HttpStack;
  beforeAll(async () => {
    shop = await createShopSessions();
    tokenRoom = await startWaitingRoom({
      sweepIntervalMs: 100,
      identity: tokenIdentity({ keys: createLocalJWKSet(shop.jwks), issuer: shop.issuer, audience: shop.audience, algorithms: ['RS256'] }),
      shopperHeaders: async (shopperId) => ({ 'X-Session-Token': await shop.sign(shopperId) }),
    });
    tokenStack = await startHttpStack(tokenRoom);
  });
  afterAll(async () => {
    await tokenStack?.close();
    await tokenRoom?.close();
  });

  it('uses the session the shop hands over in the fragment to join by itself and pay; without one, asks to sign in', async () => {
    const { dealId } = await tokenRoom.createDeal({ stock: 2 });
    const shopperId = uniqueName('member');
    const page = await chromium.shopperTab('en-US');
    await page.goto(`${tokenStack.url}/deals/${dealId}#session=${await shop.sign(shopperId)}`);
    await page.waitForURL(`**/deals/${dealId}/checkout`, { timeout: 30_000 });
    await shows(page, 'checkout');
    expect(await page.locator('#shopper').count()).toBe(0);
    expect(await page.locator('input[name="card"]').count()).toBe(0);
    expect(page.url()).not.toContain('session=');
    await page.locator('#pay').click();
    await shows(page, 'paid');
    expect((await tokenRoom.store.shopperTicket(dealId, shopperId))?.state).toBe('purchased');

    const stranger = await chromium.shopperTab('en-US');
    await stranger.goto(`${tokenStack.url}/deals/${dealId}`);
    await shows(stranger, 'problem');
    expect(await text(stranger, '#problem-text')).toBe(messages.en.identity);
  });
});
