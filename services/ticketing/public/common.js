// @ts-check
/* global document, sessionStorage, HTMLElement, HTMLButtonElement, location, history */
/**
 * What both pages share in the browser: their configuration, screens, announcements, the
 * session's ticket and shopper id, and API calls that turn every answer into a plain result.
 */
import { clockOffsetMs, fill, isTransient, nextDelay, parseRetryAfter, problemKey } from './lib.js';

/**
 * @typedef {{ dealId: string, lang: string, locale: string, identity: 'input' | 'gateway' | 'session',
 *   roomUrl: string, checkoutUrl: string, strings: Record<string, string>, proofOfWork?: boolean, powWorkerUrl?: string,
 *   drawUrl?: string }} PageConfig
 * @typedef {{ ticket: string, queueNumber: number, startPosition: number, shopperId: string | null,
 *   prequeue?: boolean, drawn?: boolean }} StoredTicket
 * @typedef {{ ok: true, status: number, body: any }} ApiSuccess
 * @typedef {{ ok: false, network?: boolean, status?: number, code?: string, details?: any, retryAfterMs?: number }} ApiFailure
 * @typedef {ApiSuccess | ApiFailure} ApiResult
 */

/** @returns {PageConfig} */
export function readConfig() {
  return JSON.parse(byId('qd-page').textContent ?? '{}');
}

/** @param {string} id */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** @param {string} id */
export function buttonById(id) {
  const element = byId(id);
  if (!(element instanceof HTMLButtonElement)) throw new Error(`#${id} is not a button`);
  return element;
}

/**
 * Marks a button as working on something; returns what puts it back.
 * @param {HTMLButtonElement} button
 * @param {string} text
 */
export function busy(button, text) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = text;
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  };
}

/** @param {string} id @param {string} text */
export function setText(id, text) {
  byId(id).textContent = text;
}

/**
 * Shows one screen and hides the others; moves focus to its heading when the shopper did something.
 * @param {string} name
 * @param {{ focus?: boolean }} [options]
 */
export function showScreen(name, options = {}) {
  for (const section of document.querySelectorAll('section[data-screen]')) {
    if (section instanceof HTMLElement) section.hidden = section.dataset.screen !== name;
  }
  document.body.dataset.showing = name;
  if (options.focus) document.getElementById(`${name}-heading`)?.focus();
}

/**
 * Shows a screen that tells how things ended (or stand): focus on its heading, the heading in the
 * tab's title and read out at once.
 * @param {string} name
 */
export function showOutcome(name) {
  notice();
  showScreen(name, { focus: true });
  const heading = document.getElementById(`${name}-heading`)?.textContent ?? '';
  setTitle(heading);
  announce(heading, true);
}

/** The tab's title: what is happening, then the product. @param {string} text */
export function setTitle(text) {
  document.title = `${text} · ${document.querySelector('h1')?.textContent ?? ''}`;
}

/**
 * Says something to screen-reader users (politely, or at once when urgent).
 * @param {string} text
 * @param {boolean} [urgent]
 */
export function announce(text, urgent = false) {
  const region = byId(urgent ? 'alert' : 'live');
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}

/** A transient problem line under the screen (hidden when `text` is empty). @param {string} [text] */
export function notice(text = '') {
  const line = byId('notice');
  line.hidden = text === '';
  line.textContent = text;
  if (text) announce(text);
}

/**
 * The problem screen, with its Try again button.
 * @param {string} text
 * @param {() => void} retry
 */
export function showProblem(text, retry) {
  setText('problem-text', text);
  byId('retry').onclick = retry;
  showScreen('problem', { focus: true });
  announce(text, true);
}

/**
 * What a page does after a request failed: a transient failure (the network, overload, a server
 * error) is retried by itself after a back-off, saying when; anything else shows the problem screen.
 * @param {PageConfig} page
 * @param {(ms: number, step: () => void) => void} schedule
 */
export function retrier(page, schedule) {
  const t = translator(page);
  const format = formatters(page);
  let failures = 0;
  return {
    succeeded() {
      failures = 0;
      notice();
    },
    /**
     * @param {ApiFailure} failure
     * @param {'join' | 'poll' | 'checkout'} during
     * @param {() => void} step what to try again
     */
    failed(failure, during, step) {
      if (!isTransient(failure)) {
        showProblem(t(problemKey(failure, during)), step);
        return;
      }
      failures += 1;
      const limited = failure.status === 429 || failure.retryAfterMs !== undefined;
      const delay = nextDelay({ kind: limited ? 'limited' : 'error', failures, retryAfterMs: failure.retryAfterMs });
      notice(t(problemKey(failure, during), { s: format.number(Math.ceil(delay / 1000)) }));
      schedule(delay, step);
    },
  };
}

/** @param {PageConfig} page */
export function translator(page) {
  /** @param {string} key @param {Record<string, string | number>} [values] */
  return (key, values) => fill(page.strings[key] ?? page.strings.generic ?? '', values);
}

/** @param {PageConfig} page */
export function formatters(page) {
  const numbers = new Intl.NumberFormat(page.locale);
  const times = new Intl.DateTimeFormat(page.locale, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
  const days = new Intl.DateTimeFormat(page.locale, {
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    hour: 'numeric',
    minute: '2-digit',
  });
  return {
    /** @param {number} n */
    number: (n) => numbers.format(n),
    /** @param {number} epochMs */
    time: (epochMs) => times.format(new Date(epochMs)),
    /** A moment that may be on another day: with the date when it is more than 12 hours away. @param {number} epochMs */
    moment: (epochMs) => (Math.abs(epochMs - Date.now()) > 12 * 3600_000 ? days : times).format(new Date(epochMs)),
  };
}

/* ---- the session: sessionStorage, so each tab is its own shopper and a reload keeps the place ---- */

const shopperKey = 'quickdeal.shopper';
/** @param {string} dealId */
const ticketKey = (dealId) => `quickdeal.ticket.${dealId}`;
/** @param {string} dealId */
export const paymentKeyName = (dealId) => `quickdeal.payment-key.${dealId}`;

/** @param {string} key */
export function readSession(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage disabled: the page still works, a reload just asks for the same ticket again
  }
}

/** @param {string} key @param {string | null} value */
export function writeSession(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // as above
  }
}

/** The shopper id this tab typed (local testing), or null behind an authenticating gateway. @param {PageConfig} page */
export function shopperOf(page) {
  return page.identity === 'input' ? readSession(shopperKey) : null;
}

const sessionKey = 'quickdeal.session';

/**
 * The shop's session token (identity 'session'). The shop links here with it in the fragment,
 * `/deals/<id>#session=<jwt>`, which never reaches a server or a Referer: the page keeps it for
 * this tab and takes it out of the address bar.
 */
export function sessionToken() {
  const handed = /(?:^#|&)session=([^&]+)/.exec(location.hash)?.[1];
  if (handed) {
    writeSession(sessionKey, decodeURIComponent(handed));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return readSession(sessionKey);
}

/** @param {string} shopperId */
export function rememberShopper(shopperId) {
  writeSession(shopperKey, shopperId);
}

/** @param {PageConfig} page @returns {StoredTicket | undefined} */
export function loadTicket(page) {
  try {
    const stored = JSON.parse(readSession(ticketKey(page.dealId)) ?? 'null');
    if (!stored || typeof stored.ticket !== 'string') return undefined;
    return stored.shopperId === shopperOf(page) ? stored : undefined;
  } catch {
    return undefined;
  }
}

/** @param {PageConfig} page @param {StoredTicket | undefined} ticket */
export function saveTicket(page, ticket) {
  writeSession(ticketKey(page.dealId), ticket ? JSON.stringify(ticket) : null);
}

/** 32 random hex digits (crypto.randomUUID needs a secure context; this does not). */
export function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/* ---- the API ---- */

/** How far the server's clock is ahead of this one (see clockOffsetMs). */
let serverOffsetMs = 0;

/** Now, by the server's clock. */
export function serverNow() {
  return Date.now() + serverOffsetMs;
}

/** A moment of the server's clock on this device's clock, for showing it as a time of day. @param {number} serverEpochMs */
export function onThisClock(serverEpochMs) {
  return serverEpochMs - serverOffsetMs;
}

/**
 * Calls the API through the page's own origin. Never throws: a network failure, a timeout and an
 * error answer all come back as `{ ok: false, ... }`.
 * @param {PageConfig} page
 * @param {string} method
 * @param {string} path below /api/v1/deals/{dealId}/
 * @param {{ ticket?: string, body?: unknown, idempotencyKey?: string, proofOfWork?: string }} [options]
 * @returns {Promise<ApiResult>}
 */
export async function api(page, method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  const shopperId = shopperOf(page);
  if (shopperId) headers['X-User-Id'] = shopperId;
  const session = page.identity === 'session' ? sessionToken() : null;
  if (session) headers['X-Session-Token'] = session;
  if (options.ticket) headers.Authorization = `Bearer ${options.ticket}`;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  if (options.proofOfWork) headers['X-Proof-Of-Work'] = options.proofOfWork;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const sentAt = Date.now();
  let response;
  try {
    response = await fetch(`/api/v1/deals/${encodeURIComponent(page.dealId)}/${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    return { ok: false, network: true };
  }
  const date = response.headers.get('Date');
  if (date) serverOffsetMs = clockOffsetMs(date, sentAt, Date.now());
  let body;
  try {
    body = response.status === 204 ? undefined : await response.json();
  } catch {
    body = undefined;
  }
  if (response.ok) return { ok: true, status: response.status, body };
  const error = body && typeof body === 'object' && body.error ? body.error : {};
  return {
    ok: false,
    status: response.status,
    code: typeof error.code === 'string' ? error.code : undefined,
    details: error,
    retryAfterMs: parseRetryAfter(response.headers.get('Retry-After'), Date.now()),
  };
}
