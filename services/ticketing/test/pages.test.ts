import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { AppEnv, DealSnapshot } from '@quickdeal/core';
import { formatMoney, installPages, messages, negotiateLocale } from '../src/pages/index.js';

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');

/** The browser's pure module (plain JavaScript), typed here by hand. */
interface ClientLib {
  fill(template: string, values?: Record<string, string | number>): string;
  nextDelay(
    outcome: { kind: 'ok' | 'error' | 'limited'; pollAfterMs?: number; failures?: number; retryAfterMs?: number },
    random?: () => number,
  ): number;
  parseRetryAfter(header: string | null | undefined, now: number): number | undefined;
  clockOffsetMs(dateHeader: string | null | undefined, sentAt: number, receivedAt: number): number;
  formatCountdown(ms: number): string;
  formatEta(
    seconds: number,
    strings: { etaSoon: string; etaMinutes: string; etaHours: string },
    formatNumber?: (n: number) => string,
  ): string;
  progressPercent(startPosition: number, position: number): number;
  problemKey(
    failure: { network?: boolean; status?: number; code?: string },
    during: 'join' | 'poll' | 'checkout' | 'pay' | 'cancel',
  ): string;
  isTransient(failure: { network?: boolean; status?: number }): boolean;
  shopperIdPattern: RegExp;
}
const lib = (await import(pathToFileURL(join(publicDir, 'lib.js')).href)) as ClientLib;

describe('the pages’ client logic (public/lib.js)', () => {
  it('polls as pollAfterMs says, spread ±10%, within 0.5–60 s', () => {
    expect(lib.nextDelay({ kind: 'ok', pollAfterMs: 4_000 }, () => 0)).toBe(3_600);
    expect(lib.nextDelay({ kind: 'ok', pollAfterMs: 4_000 }, () => 0.5)).toBe(4_000);
    expect(lib.nextDelay({ kind: 'ok', pollAfterMs: 4_000 }, () => 0.999)).toBeLessThanOrEqual(4_400);
    expect(lib.nextDelay({ kind: 'ok', pollAfterMs: 10 }, () => 0.5)).toBe(500);
    expect(lib.nextDelay({ kind: 'ok', pollAfterMs: 10_000_000 }, () => 0.5)).toBe(60_000);
    expect(lib.nextDelay({ kind: 'ok' }, () => 0.5)).toBe(2_000);
  });

  it('backs off exponentially on errors, with jitter, up to 30 s', () => {
    const upper = (failures: number) => lib.nextDelay({ kind: 'error', failures }, () => 0.999_999);
    const lower = (failures: number) => lib.nextDelay({ kind: 'error', failures }, () => 0);
    expect([1, 2, 3, 4, 5, 6, 7].map(upper)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect([1, 2, 3].map(lower)).toEqual([500, 1_000, 2_000]);
    expect(upper(1_000)).toBe(30_000);
  });

  it('honours Retry-After on 429: never sooner than it says', () => {
    expect(lib.nextDelay({ kind: 'limited', failures: 1, retryAfterMs: 7_000 }, () => 0)).toBe(7_000);
    expect(lib.nextDelay({ kind: 'limited', failures: 1, retryAfterMs: 7_000 }, () => 0.5)).toBe(7_250);
    // a Retry-After shorter than the back-off does not make a retry storm
    expect(lib.nextDelay({ kind: 'limited', failures: 6, retryAfterMs: 1_000 }, () => 0)).toBe(15_000);
    expect(lib.nextDelay({ kind: 'limited', failures: 1 }, () => 0)).toBe(500);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-01T01:00:00Z');
    expect(lib.parseRetryAfter('3', now)).toBe(3_000);
    expect(lib.parseRetryAfter(' 0 ', now)).toBe(0);
    expect(lib.parseRetryAfter('Tue, 01 Dec 2026 01:00:05 GMT', now)).toBe(5_000);
    expect(lib.parseRetryAfter('Tue, 01 Dec 2026 00:59:00 GMT', now)).toBe(0);
    expect(lib.parseRetryAfter('soon', now)).toBeUndefined();
    expect(lib.parseRetryAfter(null, now)).toBeUndefined();
  });

  it('trusts this device’s clock unless the server’s Date header is seconds away', () => {
    const sent = Date.parse('2026-12-01T01:00:00.200Z');
    expect(lib.clockOffsetMs('Tue, 01 Dec 2026 01:00:00 GMT', sent, sent + 100)).toBe(0);
    expect(lib.clockOffsetMs('Tue, 01 Dec 2026 01:00:01 GMT', sent, sent + 100)).toBe(0);
    expect(lib.clockOffsetMs('Tue, 01 Dec 2026 01:01:00 GMT', sent, sent + 100)).toBe(60_250);
    expect(lib.clockOffsetMs('Tue, 01 Dec 2026 00:59:00 GMT', sent, sent + 100)).toBe(-59_750);
    expect(lib.clockOffsetMs(undefined, sent, sent)).toBe(0);
    expect(lib.clockOffsetMs('garbage', sent, sent)).toBe(0);
  });

  it('counts down in m:ss or h:mm:ss, reaching 0:00 only when time is up', () => {
    expect(lib.formatCountdown(125_000)).toBe('2:05');
    expect(lib.formatCountdown(59_001)).toBe('1:00');
    expect(lib.formatCountdown(1)).toBe('0:01');
    expect(lib.formatCountdown(0)).toBe('0:00');
    expect(lib.formatCountdown(-5_000)).toBe('0:00');
    expect(lib.formatCountdown(20 * 60_000)).toBe('20:00');
    expect(lib.formatCountdown(3_723_000)).toBe('1:02:03');
  });

  it('says the wait in words, in either language', () => {
    const words = (lang: 'en' | 'ko') => ({
      etaSoon: messages[lang].etaSoon,
      etaMinutes: messages[lang].etaMinutes,
      etaHours: messages[lang].etaHours,
    });
    expect(lib.formatEta(30, words('en'))).toBe('under a minute');
    expect(lib.formatEta(150, words('en'))).toBe('about 3 min');
    expect(lib.formatEta(3_900, words('en'))).toBe('about 1 h 5 min');
    expect(lib.formatEta(150, words('ko'))).toBe('약 3분');
    expect(lib.formatEta(7_200, words('ko'))).toBe('약 2시간 0분');
    expect(lib.formatEta(Number.NaN, words('ko'))).toBe('1분 이내');
    const thousands = new Intl.NumberFormat('en-US');
    expect(lib.formatEta(6_000 * 60, words('en'), (n) => thousands.format(n))).toBe('about 100 h 0 min');
  });

  it('fills the progress bar from a sliver at joining to most of it when next', () => {
    expect(lib.progressPercent(99, 99)).toBe(1);
    expect(lib.progressPercent(99, 50)).toBe(50);
    expect(lib.progressPercent(99, 1)).toBe(99);
    expect(lib.progressPercent(1, 1)).toBe(50);
    // a position that grew (it should not) never makes the bar negative
    expect(lib.progressPercent(3, 10)).toBe(9);
  });

  it('explains failures in words a shopper understands, never by code', () => {
    const en = messages.en as Record<string, string>;
    const cases: Array<[Parameters<ClientLib['problemKey']>[0], Parameters<ClientLib['problemKey']>[1], string]> = [
      [{ network: true }, 'poll', 'offline'],
      [{ network: true }, 'pay', 'payLost'],
      [{ status: 429, code: 'RATE_LIMITED' }, 'poll', 'busy'],
      [{ status: 503, code: 'QUEUE_UNAVAILABLE' }, 'join', 'busyJoin'],
      [{ status: 402, code: 'PAYMENT_DECLINED' }, 'pay', 'declined'],
      [{ status: 503, code: 'PAYMENT_UNAVAILABLE' }, 'pay', 'payUnavailable'],
      [{ status: 401, code: 'SHOPPER_ID_MISSING' }, 'join', 'identity'],
      [{ status: 401, code: 'SESSION_EXPIRED' }, 'poll', 'identity'],
      [{ status: 401, code: 'SESSION_INVALID' }, 'join', 'identity'],
      [{ status: 503, code: 'REDIS_UNAVAILABLE' }, 'pay', 'busy'],
      [{ status: 404, code: 'DEAL_NOT_FOUND' }, 'join', 'notFound'],
      [{ status: 500, code: 'INTERNAL' }, 'poll', 'busy'],
      [{ status: 400, code: 'SOMETHING_NEW' }, 'checkout', 'generic'],
    ];
    for (const [failure, during, key] of cases) {
      expect(lib.problemKey(failure, during)).toBe(key);
      expect(en[key], key).toBeTruthy();
      expect(en[key]).not.toMatch(/[A-Z]{3,}_[A-Z]/);
    }
    expect(lib.isTransient({ network: true })).toBe(true);
    expect(lib.isTransient({ status: 429 })).toBe(true);
    expect(lib.isTransient({ status: 503 })).toBe(true);
    expect(lib.isTransient({ status: 410 })).toBe(false);
  });

  it('takes the shopper ids the API takes', () => {
    expect(lib.shopperIdPattern.test('alice@example.com')).toBe(true);
    expect(lib.shopperIdPattern.test('a b')).toBe(false);
    expect(lib.shopperIdPattern.test('x'.repeat(129))).toBe(false);
    expect(lib.fill('{a} and {b} and {c}', { a: 1, b: 'two' })).toBe('1 and two and {c}');
  });

  it('type-checks as strict TypeScript (JSDoc), against the DOM and without Node', () => {
    const configPath = join(publicDir, 'tsconfig.json');
    const { config } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, publicDir);
    expect(parsed.fileNames.map((file) => file.split('/').pop()).sort()).toEqual([
      'checkout.js',
      'common.js',
      'lib.js',
      'pow-worker.js',
      'room.js',
    ]);
    const program = ts.createProgram(parsed.fileNames, parsed.options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('language and money', () => {
  it('chooses Korean or English from Accept-Language, by quality', () => {
    expect(negotiateLocale('ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7')).toEqual({ lang: 'ko', tag: 'ko-KR' });
    expect(negotiateLocale('en-GB,en;q=0.9')).toEqual({ lang: 'en', tag: 'en-GB' });
    expect(negotiateLocale('fr-FR, ko;q=0.5, en;q=0.4')).toEqual({ lang: 'ko', tag: 'ko-KR' });
    expect(negotiateLocale('en;q=0.5, ko;q=0.8')).toEqual({ lang: 'ko', tag: 'ko-KR' });
    expect(negotiateLocale('KO')).toEqual({ lang: 'ko', tag: 'ko-KR' });
    expect(negotiateLocale('ko;q=0, en')).toEqual({ lang: 'en', tag: 'en-US' });
    expect(negotiateLocale('de-DE')).toEqual({ lang: 'en', tag: 'en-US' });
    expect(negotiateLocale(undefined)).toEqual({ lang: 'en', tag: 'en-US' });
    expect(negotiateLocale('en-x-!!')).toEqual({ lang: 'en', tag: 'en-US' });
  });

  it('has every string in both languages, and no empty one', () => {
    expect(Object.keys(messages.ko).sort()).toEqual(Object.keys(messages.en).sort());
    for (const lang of ['en', 'ko'] as const)
      for (const [key, text] of Object.entries(messages[lang])) expect(text, `${lang}.${key}`).not.toBe('');
  });

  it('formats prices from minor units: KRW has none', () => {
    expect(formatMoney(1_550_000, 'KRW', 'ko-KR')).toBe('₩1,550,000');
    expect(formatMoney(1_550_000, 'KRW', 'en-US')).toBe('₩1,550,000');
    expect(formatMoney(1_999, 'USD', 'en-US')).toBe('$19.99');
    expect(formatMoney(1_999, 'USD', 'ko-KR')).toBe('US$19.99');
    expect(formatMoney(1_500, 'JPY', 'en-US')).toBe('¥1,500');
    expect(formatMoney(5, 'ZZZ!', 'en-US')).toBe('5 ZZZ!');
  });
});

describe('serving the pages', () => {
  const deal = { dealId: 'demo-phone', productName: 'Phone <b>"256GB"</b>', price: 1_550_000, currency: 'KRW' } as DealSnapshot;
  const app = new Hono<AppEnv>();
  // As the local dev stack serves them: header mode, with "type a shopper id".
  installPages(app, { cache: { get: async (id) => (id === deal.dealId ? deal : undefined) }, shopperIdInput: true });
  const configOf = (html: string) => JSON.parse(/<script type="application\/json" id="qd-page">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null');

  it('renders the waiting room in the shopper’s language, with the deal escaped and a strict policy', async () => {
    const response = await app.request('/deals/demo-phone', { headers: { 'Accept-Language': 'ko-KR,ko;q=0.9' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    expect(response.headers.get('Vary')).toContain('Accept-Language');
    const html = await response.text();
    expect(html).toContain('<html lang="ko">');
    expect(html).toContain(messages.ko.joinHeading);
    expect(html).toContain('₩1,550,000');
    expect(html).toContain('Phone &lt;b&gt;&quot;256GB&quot;&lt;/b&gt;');
    expect(html).not.toContain('<b>"256GB"</b>');
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script: the policy forbids it
    const config = configOf(html);
    expect(config).toMatchObject({
      dealId: 'demo-phone',
      lang: 'ko',
      locale: 'ko-KR',
      identity: 'input',
      checkoutUrl: '/deals/demo-phone/checkout',
    });
    expect(html).toContain('id="shopper"');
  });

  it('leaves identity to the gateway when the page request already carries X-User-Id', async () => {
    const html = await (
      await app.request('/deals/demo-phone/checkout', { headers: { 'X-User-Id': 'alice', 'Accept-Language': 'en' } })
    ).text();
    expect(html).toContain('<html lang="en">');
    expect(configOf(html)).toMatchObject({ identity: 'gateway', lang: 'en' });
    expect(html).not.toContain('id="shopper"');
    expect(html).not.toContain('tok_decline'); // test cards only in the local demo
    expect(html).toContain('Pay ₩1,550,000');
  });

  it('never offers "type a shopper id" outside local development, even when no X-User-Id arrives', async () => {
    for (const options of [
      {},
      { identity: 'header' as const },
      { identity: 'token' as const },
      { identity: 'token' as const, shopperIdInput: true },
    ]) {
      const served = new Hono<AppEnv>();
      installPages(served, { cache: { get: async () => deal }, ...options });
      for (const path of ['/deals/demo-phone', '/deals/demo-phone/checkout']) {
        const html = await (await served.request(path)).text();
        expect(html, JSON.stringify(options)).not.toContain('id="shopper"');
        expect(html).not.toContain('tok_decline');
        expect(configOf(html).identity).toBe(options.identity === 'token' ? 'session' : 'gateway');
      }
    }
  });

  it('answers an unknown deal with a page, not JSON', async () => {
    for (const path of ['/deals/nope', '/deals/NOT_A_DEAL', '/deals/nope/checkout']) {
      const response = await app.request(path, { headers: { 'Accept-Language': 'en' } });
      expect(response.status, path).toBe(404);
      expect(await response.text()).toContain(messages.en.notFoundHeading);
    }
  });

  it('serves the assets from memory: immutable under the current version, revalidated otherwise', async () => {
    const html = await (await app.request('/deals/demo-phone')).text();
    const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(script).toMatch(/^\/deals\/_assets\/[A-Za-z0-9_-]+\/room\.js$/);
    const response = await app.request(script);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('Cache-Control')).toContain('immutable');
    expect(await response.text()).toContain("from './lib.js'");
    const etag = response.headers.get('ETag') ?? '';
    expect((await app.request(script, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    const gzipped = await app.request(script, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    expect(gzipped.headers.get('Content-Encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gzipped.arrayBuffer())).toString()).toContain("from './lib.js'");
    const stale = await app.request('/deals/_assets/old/qd.css');
    expect(stale.headers.get('Cache-Control')).toBe('no-cache');
    expect(stale.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    expect((await app.request(script.replace('room.js', 'tsconfig.json'))).status).toBe(404);
    expect((await app.request(script.replace('room.js', '..%2Fpackage.json'))).status).toBe(404);
  });
});
