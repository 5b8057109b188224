// @ts-check
/**
 * The waiting room's pure logic: no DOM, no network, no clock of its own, so the unit tests run
 * it in Node exactly as the browser does (services/ticketing/test/pages-client.test.ts).
 */

/** Shopper ids the API accepts (DESIGN.md: X-User-Id). */
export const shopperIdPattern = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Fills `{name}` placeholders.
 * @param {string} template
 * @param {Record<string, string | number>} [values]
 */
export function fill(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/**
 * How long to wait before the next request.
 * - `ok`: the server's `pollAfterMs` (clamped to 0.5–60 s), spread ±10% so a crowd does not poll in step;
 * - `error`: exponential back-off, 1 s doubling to 30 s, with jitter over its upper half;
 * - `limited` (429, or 503 with Retry-After): never sooner than Retry-After, nor than the back-off.
 * @param {{ kind: 'ok' | 'error' | 'limited', pollAfterMs?: number, failures?: number, retryAfterMs?: number }} outcome
 * @param {() => number} [random] a source of numbers in [0, 1)
 * @returns {number} milliseconds
 */
export function nextDelay(outcome, random = Math.random) {
  if (outcome.kind === 'ok') {
    const base = Math.min(60_000, Math.max(500, outcome.pollAfterMs ?? 2_000));
    return Math.round(base * (0.9 + 0.2 * random()));
  }
  const failures = Math.max(1, outcome.failures ?? 1);
  const ceiling = Math.min(30_000, 1_000 * 2 ** Math.min(failures - 1, 15));
  const backoff = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  if (outcome.kind === 'limited' && outcome.retryAfterMs !== undefined) {
    return Math.max(backoff, Math.round(outcome.retryAfterMs + random() * 500));
  }
  return backoff;
}

/**
 * Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable.
 * @param {string | null | undefined} header
 * @param {number} now epoch milliseconds
 */
export function parseRetryAfter(header, now) {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How far the server's clock is ahead of this one, from a response's Date header. The header has
 * one-second resolution, so differences under two seconds are noise and count as none.
 * @param {string | null | undefined} dateHeader
 * @param {number} sentAt when the request left (this clock)
 * @param {number} receivedAt when the answer came (this clock)
 */
export function clockOffsetMs(dateHeader, sentAt, receivedAt) {
  const serverSecond = dateHeader ? Date.parse(dateHeader) : NaN;
  if (Number.isNaN(serverSecond)) return 0;
  const offset = serverSecond + 500 - (sentAt + receivedAt) / 2;
  return Math.abs(offset) < 2_000 ? 0 : Math.round(offset);
}

/**
 * A countdown as `m:ss` (or `h:mm:ss`), rounding up so it shows 0:00 only when time is really up.
 * @param {number} ms
 */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/**
 * An estimated wait in words, from the page's strings: `etaSoon` under a minute, `etaMinutes`
 * ({m}) under an hour, `etaHours` ({h}, {m}) beyond.
 * @param {number} seconds
 * @param {{ etaSoon: string, etaMinutes: string, etaHours: string }} strings
 * @param {(n: number) => string} [formatNumber]
 */
export function formatEta(seconds, strings, formatNumber = String) {
  if (!Number.isFinite(seconds) || seconds < 60) return strings.etaSoon;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return fill(strings.etaMinutes, { m: formatNumber(minutes) });
  return fill(strings.etaHours, { h: formatNumber(Math.floor(minutes / 60)), m: formatNumber(minutes % 60) });
}

/**
 * How far along the line a shopper is, in percent, from the position they joined at: a sliver at
 * the start, most of the bar when next, full only once admitted.
 * @param {number} startPosition
 * @param {number} position
 */
export function progressPercent(startPosition, position) {
  const start = Math.max(1, startPosition, position);
  const current = Math.max(1, position);
  return Math.round(((start - current + 1) / (start + 1)) * 100);
}

/**
 * Which message explains a failed request to a shopper (a key of the page's strings). Never the raw code.
 * @param {{ network?: boolean, status?: number, code?: string }} failure
 * @param {'join' | 'poll' | 'checkout' | 'pay' | 'cancel'} during
 */
export function problemKey(failure, during) {
  if (failure.network) return during === 'pay' ? 'payLost' : 'offline';
  const { status = 0, code = '' } = failure;
  if (status === 429 || code === 'QUEUE_UNAVAILABLE' || code === 'TICKET_PENDING') return during === 'join' ? 'busyJoin' : 'busy';
  if (code === 'PAYMENT_DECLINED') return 'declined';
  if (code === 'PAYMENT_UNAVAILABLE') return 'payUnavailable';
  if (code === 'PAYMENT_IN_PROGRESS') return 'payInProgress';
  if (code === 'SHOPPER_ID_INVALID') return 'shopperInvalid';
  if (code === 'SHOPPER_ID_MISSING' || code.startsWith('SESSION_')) return 'identity';
  if (code === 'DEAL_NOT_FOUND') return 'notFound';
  if (status >= 500) return during === 'join' ? 'busyJoin' : 'busy';
  return 'generic';
}

/**
 * Whether a failure is worth retrying by itself (the network, overload, a server error).
 * @param {{ network?: boolean, status?: number }} failure
 */
export function isTransient(failure) {
  return Boolean(failure.network) || failure.status === 429 || (failure.status ?? 0) >= 500;
}
