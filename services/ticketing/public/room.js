// @ts-check
/* global document, location, HTMLInputElement, HTMLProgressElement */
/**
 * The waiting room: takes a ticket (kept in sessionStorage, so a reload keeps the place), polls as
 * the server's pollAfterMs says, backs off on errors and honours Retry-After, and moves to the
 * checkout page when it is the shopper's turn.
 */
import { formatCountdown, formatEta, nextDelay, progressPercent, shopperIdPattern } from './lib.js';
import {
  announce,
  api,
  busy,
  buttonById,
  byId,
  formatters,
  loadTicket,
  notice,
  onThisClock,
  randomKey,
  readConfig,
  rememberShopper,
  retrier,
  saveTicket,
  serverNow,
  setText,
  setTitle,
  shopperOf,
  showOutcome,
  showScreen,
  translator,
} from './common.js';

/**
 * @typedef {{ status: string, ticket?: string, queueNumber: number, position: number, unitsLeft: number,
 *   etaSeconds: number, pollAfterMs: number, paused?: boolean, checkoutExpiresAt?: string, orderId?: string }} TicketView
 */

const page = readConfig();
const t = translator(page);
const format = formatters(page);
/** How long the "your turn" screen shows before checkout opens. */
const GRANTED_PAUSE_MS = 1_200;

let stored = loadTicket(page);
/** Whether a rejected ticket was already swapped for the shopper's current one (at most once). */
let recovered = false;
let lastAnnounced = { at: 0, position: 0 };

/** One pending step at a time: the next poll, retry or countdown tick. */
const pending = {
  timer: /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined),
  step: /** @type {(() => void) | undefined} */ (undefined),
  dueAt: 0,
};

/** @param {number} ms @param {() => void} step */
function later(ms, step) {
  stop();
  pending.step = step;
  pending.dueAt = Date.now() + ms;
  pending.timer = setTimeout(() => {
    pending.step = undefined;
    step();
  }, ms);
}

function stop() {
  clearTimeout(pending.timer);
  pending.step = undefined;
}

const retry = retrier(page, later);

// Timers of a background tab are throttled: catch up as soon as the shopper looks again.
document.addEventListener('visibilitychange', () => {
  const step = pending.step;
  if (document.visibilityState === 'visible' && step && Date.now() >= pending.dueAt - 250) {
    stop();
    step();
  }
});

async function join() {
  stop();
  const joinButton = buttonById('join');
  const restore = busy(joinButton, t('joining'));
  const result = await api(page, 'POST', 'tickets');
  restore();
  if (result.ok) {
    retry.succeeded();
    /** @type {TicketView} */
    const view = result.body;
    stored = {
      ticket: view.ticket ?? '',
      queueNumber: view.queueNumber,
      startPosition: Math.max(1, view.position),
      shopperId: shopperOf(page),
    };
    saveTicket(page, stored);
    render(view);
    return;
  }
  switch (result.code) {
    case 'DEAL_NOT_OPEN':
      return notOpen(Date.parse(result.details?.opensAt));
    case 'DEAL_CLOSED':
      return finish('closed');
    case 'ALREADY_PURCHASED':
      return purchased(undefined, true);
    case 'ITEM_SOLD_OUT':
      return finish('soldout');
    case 'SHOPPER_ID_INVALID':
      return askShopper(t('shopperInvalid'));
  }
  retry.failed(result, 'join', join);
}

async function poll() {
  if (!stored) return start();
  const result = await api(page, 'GET', 'tickets/status', { ticket: stored.ticket });
  if (result.ok) {
    retry.succeeded();
    render(result.body);
    return;
  }
  if (result.code === 'TICKET_EXPIRED') return expired(t('ticketExpiredLead'));
  if ((result.status === 401 || result.status === 403) && !recovered) {
    // A ticket this tab kept that the server no longer takes (a new signing key, another shopper):
    // asking again returns the shopper's current ticket, or a new one.
    recovered = true;
    forgetTicket();
    return join();
  }
  retry.failed(result, 'poll', poll);
}

/** @param {TicketView} view */
function render(view) {
  switch (view.status) {
    case 'ACCESS_DENIED':
      waiting(view);
      later(nextDelay({ kind: 'ok', pollAfterMs: view.pollAfterMs }), poll);
      return;
    case 'ACCESS_GRANTED':
      return granted(Date.parse(view.checkoutExpiresAt ?? ''));
    case 'PURCHASED':
      return purchased(view.orderId, false);
    case 'ITEM_SOLD_OUT':
      return finish('soldout');
    default:
      return expired(t('expiredLead'));
  }
}

/** @param {TicketView} view */
function waiting(view) {
  const first = document.body.dataset.showing !== 'waiting';
  const ahead = Math.max(0, view.position - 1);
  const aheadText = ahead === 0 ? t('next') : t('aheadCount', { n: format.number(ahead) });
  const eta = formatEta(view.etaSeconds, { etaSoon: t('etaSoon'), etaMinutes: t('etaMinutes'), etaHours: t('etaHours') }, format.number);
  setText('queue-number', format.number(view.queueNumber));
  setText('ahead', aheadText);
  setText('units', t('unitsCount', { n: format.number(view.unitsLeft) }));
  setText('eta', eta);
  const percent = progressPercent(stored?.startPosition ?? view.position, view.position);
  const progress = byId('progress');
  if (progress instanceof HTMLProgressElement) progress.value = percent;
  progress.textContent = `${percent}%`;
  byId('paused').hidden = !view.paused;
  byId('few-units').hidden = !(view.unitsLeft > 0 && ahead >= view.unitsLeft);
  setTitle(t('titleWaiting', { ahead: format.number(ahead) }));
  showScreen('waiting', { focus: first });
  // Announce the place on arrival, then when it moves: at most every 30 s, except near the front.
  const now = Date.now();
  if (first || (view.position !== lastAnnounced.position && (now - lastAnnounced.at > 30_000 || ahead <= 3))) {
    lastAnnounced = { at: now, position: view.position };
    announce(t('announceWaiting', { qn: format.number(view.queueNumber), ahead: aheadText, eta }));
  }
}

/** @param {number} deadline */
function granted(deadline) {
  stop();
  notice();
  setText('granted-lead', t('grantedLead', { time: Number.isFinite(deadline) ? format.time(onThisClock(deadline)) : '' }));
  setTitle(t('titleGranted'));
  showScreen('granted', { focus: true });
  announce(t('grantedHeading'), true);
  setTimeout(() => location.assign(page.checkoutUrl), GRANTED_PAUSE_MS);
}

/** @param {string | undefined} orderId @param {boolean} already */
function purchased(orderId, already) {
  if (already) setText('purchased-lead', t('alreadyPurchased'));
  if (orderId) {
    setText('order-id', orderId);
    byId('purchased-order').hidden = false;
  }
  finish('purchased');
}

/** @param {string} lead */
function expired(lead) {
  setText('expired-lead', lead);
  finish('expired');
}

/** A screen the line has nothing more to say after (until the shopper acts). @param {string} name */
function finish(name) {
  stop();
  showOutcome(name);
}

/** @param {number} opensAt by the server's clock */
function notOpen(opensAt) {
  if (!Number.isFinite(opensAt)) return retry.failed({ ok: false, status: 503 }, 'join', join);
  notice();
  setText('notopen-lead', t('notOpenLead', { time: format.moment(onThisClock(opensAt)) }));
  showScreen('notopen', { focus: document.body.dataset.showing !== 'notopen' });
  const tick = () => {
    const left = opensAt - serverNow();
    setText('opens-in', formatCountdown(left));
    // Everyone's page wakes at the opening: spread the crowd's first requests over three seconds.
    if (left <= 0) later(Math.random() * 3_000, join);
    else later(Math.min(1_000, left), tick);
  };
  tick();
}

function forgetTicket() {
  stored = undefined;
  saveTicket(page, undefined);
}

/** The shopper-id form (local testing), with an error to show if any. @param {string} [error] */
function askShopper(error = '') {
  stop();
  const input = byId('shopper');
  if (input instanceof HTMLInputElement && !input.value) input.value = shopperOf(page) ?? `shopper-${randomKey().slice(0, 6)}`;
  const errorLine = byId('shopper-error');
  errorLine.textContent = error;
  errorLine.hidden = error === '';
  input.setAttribute('aria-invalid', String(error !== ''));
  showScreen('join');
  if (error) input.focus();
}

byId('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('shopper');
  if (input instanceof HTMLInputElement) {
    const shopperId = input.value.trim();
    if (!shopperIdPattern.test(shopperId)) return askShopper(t('shopperInvalid'));
    rememberShopper(shopperId);
    byId('shopper-error').hidden = true;
    input.removeAttribute('aria-invalid');
    stored = loadTicket(page);
    if (stored) return void poll();
  }
  void join();
});

byId('rejoin').addEventListener('click', () => {
  forgetTicket();
  void join();
});

function start() {
  if (stored) void poll();
  else if (page.identity !== 'input') void join();
  else askShopper();
}

start();
