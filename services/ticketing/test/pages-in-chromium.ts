/**
 * What the pages' browser tests share: one whole waiting room (real Kafka, Redis and Postgres;
 * ticketing and payment over HTTP behind the local gateway), Debian's Chromium, a tab per shopper
 * whose page errors fail the test, and the page's screens. Call once at a test file's top level:
 * it registers the file's hooks.
 */
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { launchChromium, screenshotDir, startHttpStack, startWaitingRoom, type HttpStack, type WaitingRoom } from '@quickdeal/dev/testing';

export const PHONE = { width: 390, height: 844 };

export interface PagesInChromium {
  readonly room: WaitingRoom;
  readonly stack: HttpStack;
  /**
   * A shopper's browser tab: its own context, so its own sessionStorage, like a separate person.
   * `gatewayUser` stands in for an authenticating gateway that adds X-User-Id to every request.
   */
  shopperTab(locale: 'ko-KR' | 'en-US', options?: { viewport?: { width: number; height: number }; gatewayUser?: string }): Promise<Page>;
}

export function pagesInChromium(): PagesInChromium {
  let room: WaitingRoom | undefined;
  let stack: HttpStack | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [room, browser] = await Promise.all([startWaitingRoom({ sweepIntervalMs: 100 }), launchChromium(inject('chromiumPath'))]);
    stack = await startHttpStack(room);
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await room?.close();
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${what} is not started yet (beforeAll)`);
    return value;
  };

  return {
    get room() {
      return started(room, 'waiting room');
    },
    get stack() {
      return started(stack, 'HTTP stack');
    },
    async shopperTab(locale, { viewport = PHONE, gatewayUser } = {}) {
      const context = await started(browser, 'browser').newContext({
        locale,
        viewport,
        deviceScaleFactor: 1,
        ...(gatewayUser ? { extraHTTPHeaders: { 'X-User-Id': gatewayUser } } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
      page.on('console', (message) => {
        if (/Content Security Policy|Uncaught/i.test(message.text())) pageErrors.push(message.text());
      });
      return page;
    },
  };
}

const shots = screenshotDir();

export const screen = (page: Page, name: string) => page.locator(`section[data-screen="${name}"]`);

/** Waits for a screen of the page; a timeout names the screen the page shows instead. */
export async function shows(page: Page, name: string, timeout = 30_000): Promise<void> {
  try {
    await screen(page, name).waitFor({ state: 'visible', timeout });
  } catch (error) {
    const showing = await page
      .evaluate(() => `${document.body.dataset.showing} (${document.querySelector('#notice')?.textContent ?? ''})`)
      .catch(() => '?');
    throw new Error(`expected the ${name} screen, the page shows ${showing}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

/** A screenshot in .quickdeal/screenshots/, for a person to look at. */
export async function snap(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}
