/**
 * The waiting room's opening in Chromium (issue 14): the countdown to a pre-queue, the pre-queue
 * with its draw explained and its commitment, the drawn place with the seed revealed, a WhenBusy
 * deal's immediate grant, and a proof of work solved in a Web Worker. A whole waiting room (real
 * Kafka, Redis, Postgres) behind the local gateway; screenshots in .quickdeal/screenshots/.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { drawOrder, seedCommitment } from '@quickdeal/core';
import { uniqueName } from '@quickdeal/dev/testing';
import { messages } from '../src/pages/index.js';
import { pagesInChromium, shows, snap, text } from './pages-in-chromium.js';

const chromium = pagesInChromium();

/** A shopper's tab; `gatewayUser` stands in for a gateway that names the shopper (the page then joins by itself). */
async function shopperTab(locale: 'ko-KR' | 'en-US', gatewayUser?: string): Promise<Page> {
  const page = await chromium.shopperTab(locale, { gatewayUser });
  // every screen the page shows, in order, and the longest the main thread went without running a timer while solving a proof of work
  await page.addInitScript(() => {
    const w = window as unknown as { screens: string[]; longestStallMs: number };
    w.screens = [];
    w.longestStallMs = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (document.getElementById('pow-working')?.hidden === false) w.longestStallMs = Math.max(w.longestStallMs, now - last);
      last = now;
    }, 20);
    new MutationObserver(() => {
      const showing = document.body.dataset.showing;
      if (showing && w.screens[w.screens.length - 1] !== showing) w.screens.push(showing);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-showing'] });
  });
  return page;
}

const screensOf = (page: Page) => page.evaluate(() => (window as unknown as { screens: string[] }).screens);

async function joinLine(page: Page, dealId: string, shopperId: string): Promise<void> {
  await page.goto(`${chromium.stack.url}/deals/${dealId}`);
  await shows(page, 'join');
  await page.locator('#shopper').fill(shopperId);
  await page.locator('#join').click();
}

const published = async (dealId: string) =>
  (await (await chromium.room.ticketing.request(`/api/v1/deals/${dealId}/draw`)).json()) as {
    commitment: string;
    seed: string | null;
    state: string;
  };

describe('the opening in Chromium', () => {
  it('counts down to the pre-queue, joins it by itself, explains the draw, and after the open shows the drawn place and the revealed seed', async () => {
    // Paused, so that after the draw everyone waits in line (a pause holds admission, not the draw).
    const spec = {
      stock: 5,
      paused: true,
      // the pre-queue opens 8 s from now, the sale 25 s from now: room for a loaded machine's page loads
      opensAt: new Date(Date.now() + 25_000).toISOString(),
      admission: { maxActiveShoppers: 1, checkoutWindow: '30s' },
      queue: { prequeue: '17s' },
    };
    const { dealId } = await chromium.room.createDeal(spec);
    const { commitment } = await published(dealId);

    // Behind a gateway, the page counts down to the pre-queue's opening and joins it by itself.
    const signedIn = uniqueName('early');
    const en = await shopperTab('en-US', signedIn);
    await en.goto(`${chromium.stack.url}/deals/${dealId}`);
    await shows(en, 'notopen');
    expect(await text(en, '#notopen-lead')).toMatch(/^The pre-queue opens at .+, before the sale opens at /);
    expect(await text(en, '#opens-in')).toMatch(/^0:0\d$/);
    await snap(en, 'prequeue-notopen-en');

    await shows(en, 'prequeued', 15_000);
    expect(await text(en, '#prequeued-heading')).toBe(messages.en.prequeueHeading);
    expect(await text(en, '#prequeue-lead')).toMatch(/^Your place in line is drawn at the open/);
    expect(await text(en, '#draw-in')).toMatch(/^0:[01]\d$/);
    expect(await en.locator('#draw').isVisible()).toBe(true);
    expect(await text(en, '#draw-commitment')).toBe(commitment);
    expect(await text(en, '#draw-seed')).toBe(messages.en.drawSeedPending);
    expect(await en.locator('#draw-verify').getAttribute('href')).toBe(`/api/v1/deals/${dealId}/draw`);
    await snap(en, 'prequeue-en');

    // A Korean shopper joins by hand, and two more through the API.
    const korean = uniqueName('korean');
    const ko = await shopperTab('ko-KR');
    await joinLine(ko, dealId, korean);
    await shows(ko, 'prequeued');
    expect(await text(ko, '#prequeued-heading')).toBe(messages.ko.prequeueHeading);
    expect(await text(ko, '#draw-heading')).toBe(messages.ko.drawHeading);
    expect(await text(ko, '#draw-commitment')).toBe(commitment);
    await snap(ko, 'prequeue-ko');
    const others = [uniqueName('api'), uniqueName('api')];
    for (const shopperId of others) expect((await chromium.room.takeTicket(dealId, shopperId)).body.status).toBe('PREQUEUED');

    // At the open the draw places everyone; the pages show their drawn place and, once all are in line, the seed.
    await shows(en, 'waiting', 30_000);
    await shows(ko, 'waiting', 30_000);
    const draw = await published(dealId);
    expect(draw.state).toBe('done');
    expect(draw.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(seedCommitment(draw.seed as string)).toBe(commitment);
    const order = drawOrder(draw.seed as string, [signedIn, korean, ...others]);
    for (const [page, shopperId] of [
      [en, signedIn],
      [ko, korean],
    ] as const) {
      await page.waitForFunction((seed) => document.querySelector('#draw-seed')?.textContent === seed, draw.seed, { timeout: 15_000 });
      expect(await text(page, '#queue-number')).toBe(String(order.indexOf(shopperId) + 1));
      expect(await page.locator('#drawn-note').isVisible()).toBe(true);
      expect(await page.locator('#paused').isVisible()).toBe(true);
    }
    expect(await text(ko, '#drawn-note')).toBe(messages.ko.drawnNote);
    await snap(en, 'drawn-waiting-en');
    await snap(ko, 'drawn-waiting-ko');
    expect(await screensOf(en)).toEqual(['notopen', 'prequeued', 'waiting']);
  }, 120_000);

  it('a WhenBusy deal with free slots lets the shopper in at once; its proof of work is solved in a worker without freezing the page', async () => {
    const { dealId } = await chromium.room.createDeal({
      stock: 2,
      admission: { maxActiveShoppers: 2, checkoutWindow: '30s' },
      queue: { mode: 'WhenBusy', proofOfWork: { difficulty: 20_000 } },
    });
    const page = await shopperTab('ko-KR');
    const proofs: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith(`/api/v1/deals/${dealId}/tickets`)) {
        proofs.push(request.headers()['x-proof-of-work'] ?? '');
      }
    });
    const workers: string[] = [];
    page.on('worker', (worker) => workers.push(worker.url()));
    await joinLine(page, dealId, uniqueName('quick'));
    await shows(page, 'granted');
    await snap(page, 'granted-at-once-ko');
    expect(await screensOf(page)).toEqual(['join', 'granted']); // no waiting screen
    expect(proofs).toHaveLength(1);
    const payload = JSON.parse(Buffer.from(proofs[0] as string, 'base64').toString()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(payload.challenge.parameters.data.deal).toBe(dealId);
    expect(payload.solution.derivedKey.startsWith(payload.challenge.parameters.keyPrefix)).toBe(true);
    expect(workers.some((url) => url.endsWith('/pow-worker.js'))).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { longestStallMs: number }).longestStallMs)).toBeLessThan(1_000);
    await page.waitForURL(`**/deals/${dealId}/checkout`);
  }, 60_000);
});
