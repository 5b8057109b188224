// @ts-check
/* global document, location, HTMLInputElement */
/**
 * The checkout: the held unit, a countdown to the deadline, Pay and Cancel. A payment keeps one
 * Idempotency-Key until it has a definite answer, so pressing Pay again after a lost connection
 * (or a reload) can never charge twice.
 */
import { formatCountdown } from './lib.js';
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
  paymentKeyName,
  randomKey,
  readConfig,
  readSession,
  retrier,
  saveTicket,
  serverNow,
  setText,
  showOutcome,
  showScreen,
  translator,
  writeSession,
} from './common.js';

/** @typedef {import('./common.js').ApiFailure} ApiFailure */

const page = readConfig();
const t = translator(page);
const format = formatters(page);
const stored = loadTicket(page);
const payButton = buttonById('pay');
const cancelButton = buttonById('cancel');
/** Seconds left at which the time is read out to screen-reader users. */
const ANNOUNCE_AT = [300, 60, 30, 10];

let deadline = 0;
let paying = false;
let finished = false;
let lastAnnouncedAt = Infinity;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let countdownTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;

const retry = retrier(page, (ms, step) => {
  retryTimer = setTimeout(step, ms);
});

const deadlineText = () => format.time(onThisClock(deadline));

function paymentKey() {
  let key = readSession(paymentKeyName(page.dealId));
  if (!key) {
    key = randomKey();
    writeSession(paymentKeyName(page.dealId), key);
  }
  return key;
}

function forgetPaymentKey() {
  writeSession(paymentKeyName(page.dealId), null);
}

/** Shows a final screen; the ticket is spent, so it is forgotten. @param {string} name */
function end(name) {
  finished = true;
  clearTimeout(countdownTimer);
  clearTimeout(retryTimer);
  saveTicket(page, undefined);
  forgetPaymentKey();
  showOutcome(name);
}

/** @param {string | undefined} orderId */
function paid(orderId) {
  if (orderId) {
    setText('order-id', orderId);
    byId('paid-order').hidden = false;
  }
  end('paid');
}

/** A problem with paying, said next to the buttons. @param {string} [text] */
function payProblem(text = '') {
  const line = byId('pay-problem');
  line.textContent = text;
  line.hidden = text === '';
  if (text) announce(text, true);
}

/**
 * What every action does with answers that end the checkout; false when the answer is not one of those.
 * @param {ApiFailure} failure
 */
function endedBy(failure) {
  switch (failure.code) {
    case 'CHECKOUT_EXPIRED':
      end('timeup');
      return true;
    case 'ALREADY_PURCHASED':
      paid(undefined);
      return true;
    case 'ITEM_SOLD_OUT':
      setText('soldout-lead', t('soldOutNotCharged'));
      end('soldout');
      return true;
    case 'TICKET_EXPIRED':
    case 'TICKET_INVALID':
    case 'TICKET_MISSING':
    case 'TICKET_FOREIGN':
    case 'TICKET_NOT_YOURS':
      end('noticket');
      return true;
    default:
      return false;
  }
}

async function load() {
  if (!stored) return end('noticket');
  const result = await api(page, 'GET', 'checkout', { ticket: stored.ticket });
  if (result.ok) {
    retry.succeeded();
    open(result.body);
    return;
  }
  // Not (or no longer) this shopper's turn: the waiting room knows where they stand.
  if (result.code === 'NOT_ADMITTED') return location.replace(page.roomUrl);
  if (!endedBy(result)) retry.failed(result, 'checkout', load);
}

/** @param {{ expiresAt: string, paying?: boolean }} checkout */
function open(checkout) {
  deadline = Date.parse(checkout.expiresAt);
  setText('pay-by', t('payBy', { time: deadlineText() }));
  showScreen('checkout');
  tick();
  if (checkout.paying) void waitForPayment();
}

function tick() {
  if (finished) return;
  const left = deadline - serverNow();
  const countdown = byId('countdown');
  countdown.textContent = formatCountdown(left);
  countdown.classList.toggle('urgent', left <= 60_000);
  if (left <= 0) return timeUp();
  const seconds = Math.ceil(left / 1000);
  if (lastAnnouncedAt === Infinity || ANNOUNCE_AT.some((mark) => seconds <= mark && lastAnnouncedAt > mark)) {
    lastAnnouncedAt = seconds;
    announce(t('announceTimeLeft', { t: formatCountdown(left) }));
  }
  countdownTimer = setTimeout(tick, left % 1000 || 1000);
}

/** The deadline passed here; a payment already on its way still decides. */
function timeUp() {
  if (!paying && !finished) end('timeup');
}

async function pay() {
  if (paying || finished || !stored) return;
  paying = true;
  payProblem();
  const restore = busy(payButton, t('paying'));
  cancelButton.disabled = true;
  const card = document.querySelector('input[name="card"]:checked');
  const token = card instanceof HTMLInputElement ? card.value : undefined;
  const result = await api(page, 'POST', 'orders', {
    ticket: stored.ticket,
    idempotencyKey: paymentKey(),
    body: token ? { paymentMethod: { token } } : {},
  });
  paying = false;
  restore();
  cancelButton.disabled = false;
  if (result.ok) return paid(result.body?.orderId);
  if (endedBy(result)) return;
  switch (result.code) {
    case 'PAYMENT_DECLINED':
      forgetPaymentKey(); // that attempt is over: the next press is a new payment
      payProblem(t('declined', { time: deadlineText() }));
      break;
    case 'PAYMENT_IN_PROGRESS':
      return void waitForPayment();
    case 'NOT_ADMITTED':
      return end('timeup');
    case 'IDEMPOTENCY_KEY_REUSED':
      forgetPaymentKey();
      payProblem(t('generic'));
      break;
    case 'PAYMENT_CANCELLED':
      forgetPaymentKey(); // that attempt ended with nothing kept (never charged, or refunded): the next press is a new payment
      payProblem(t('payUnavailable', { time: deadlineText() }));
      break;
    default:
      // Lost on the way, or the provider did not answer: the same key retries safely.
      payProblem(result.network ? t('payLost') : t('payUnavailable', { time: deadlineText() }));
  }
  if (deadline - serverNow() <= 0) timeUp();
}

/** A payment is under way (another press, another tab, a reload): follow it until it settles. */
async function waitForPayment() {
  if (!stored || finished) return;
  payButton.disabled = true;
  cancelButton.disabled = true;
  notice(t('payInProgress'));
  const result = await api(page, 'GET', 'tickets/status', { ticket: stored.ticket });
  const status = result.ok ? result.body?.status : undefined;
  if (status === 'PURCHASED') return paid(result.ok ? result.body?.orderId : undefined);
  if (status === 'ITEM_SOLD_OUT') return end('soldout');
  if (status === 'ACCESS_EXPIRED') return end('timeup');
  if (status === 'ACCESS_GRANTED' && !(await paymentPending())) {
    notice();
    payButton.disabled = false;
    cancelButton.disabled = false;
    return;
  }
  retryTimer = setTimeout(() => void waitForPayment(), 1_500);
}

/** Whether the checkout still says a payment is in progress. */
async function paymentPending() {
  if (!stored) return false;
  const result = await api(page, 'GET', 'checkout', { ticket: stored.ticket });
  return result.ok ? Boolean(result.body?.paying) : true;
}

async function giveUp() {
  if (!stored || finished) return;
  const restore = busy(buttonById('cancel-yes'), t('cancelYes'));
  const result = await api(page, 'DELETE', 'checkout', { ticket: stored.ticket });
  restore();
  if (result.ok) return end('cancelled');
  showConfirm(false);
  if (endedBy(result)) return;
  if (result.code === 'PAYMENT_IN_PROGRESS') return void waitForPayment();
  if (result.code === 'NOT_ADMITTED') return end('timeup');
  payProblem(t('generic'));
}

/** @param {boolean} shown */
function showConfirm(shown) {
  byId('confirm-cancel').hidden = !shown;
  byId('actions').hidden = shown;
  (shown ? buttonById('cancel-no') : cancelButton).focus();
}

payButton.addEventListener('click', () => void pay());
cancelButton.addEventListener('click', () => showConfirm(true));
buttonById('cancel-no').addEventListener('click', () => showConfirm(false));
buttonById('cancel-yes').addEventListener('click', () => void giveUp());

void load();
