// @ts-check
/* global document, location, HTMLInputElement, HTMLProgressElement, Worker */
/**
 * The waiting room: takes a ticket (kept in sessionStorage, so a reload keeps the place), polls as
 * the server's pollAfterMs says, backs off on errors and honours Retry-After, and moves to the
 * checkout page when it is the shopper's turn. Before a deal with a pre-queue opens, it holds a
 * pre-queue ticket and counts down to the draw, then shows the drawn place and the revealed seed.
 * A deal that asks for a proof of work has each ticket request's challenge solved in a Web Worker.
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
 *   etaSeconds: number, pollAfterMs: number, paused?: boolean, checkoutExpiresAt?: string, orderId?: string,
 *   opensAt?: string, drawCommitment?: string, drawing?: boolean }} TicketView
 * @typedef {import('./common.js').ApiFailure} ApiFailure
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
/** Whether ticket requests carry a solved challenge (known from the page, or learnt from a 428), and whether a spent one was already replaced. */
let needsProof = page.proofOfWork === true;
let proofRetried = false;
/** The countdown to the draw while in the pre-queue, and whether the revealed seed is shown. */
let drawCountdown = /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined);
let seedShown = false;

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
  const proof = needsProof ? await solvedProof() : undefined;
  if (proof !== undefined && typeof proof !== 'string') {
    restore();
    return retry.failed(proof, 'join', join);
  }
  const result = await api(page, 'POST', 'tickets', proof ? { proofOfWork: proof } : {});
  restore();
  if (result.ok) {
    retry.succeeded();
    proofRetried = false;
    /** @type {TicketView} */
    const view = result.body;
    if (view.status === 'PREQUEUED') {
      stored = { ticket: view.ticket ?? '', queueNumber: 0, startPosition: 1, shopperId: shopperOf(page), prequeue: true };
      saveTicket(page, stored);
      render(view);
      return;
    }
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
      return notOpen(Date.parse(result.details?.opensAt), Date.parse(result.details?.prequeueOpensAt));
    case 'PROOF_OF_WORK_REQUIRED':
    case 'PROOF_OF_WORK_EXPIRED':
    case 'PROOF_OF_WORK_REPLAYED':
      // solve a (new) challenge and ask again, once; after that it is a problem like any other
      if (!proofRetried) {
        proofRetried = true;
        needsProof = true;
        return join();
      }
      break;
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

/**
 * A solved challenge for one ticket request (each is single-use): fetched from the API, solved in
 * a Web Worker so the page stays responsive, returned as the X-Proof-Of-Work value.
 * @returns {Promise<string | ApiFailure>}
 */
async function solvedProof() {
  const challenge = await api(page, 'GET', 'challenge');
  if (!challenge.ok) return challenge;
  const working = byId('pow-working');
  working.hidden = false;
  try {
    const solution = await new Promise((resolve, reject) => {
      const worker = new Worker(page.powWorkerUrl ?? '');
      worker.onmessage = (event) => {
        worker.terminate();
        if (event.data.solution) resolve(event.data.solution);
        else reject(new Error(event.data.error));
      };
      worker.onerror = (event) => {
        worker.terminate();
        reject(new Error(event.message));
      };
      worker.postMessage({ challenge: challenge.body });
    });
    return btoa(JSON.stringify({ challenge: challenge.body, solution }));
  } catch {
    return { ok: false, status: 500 };
  } finally {
    working.hidden = true;
  }
}

async function poll() {
  if (!stored) return start();
  const inPrequeue = stored.prequeue === true;
  const result = await api(page, 'GET', inPrequeue ? 'prequeue' : 'tickets/status', { ticket: stored.ticket });
  if (result.ok) {
    retry.succeeded();
    /** @type {TicketView} */
    const view = result.body;
    if (inPrequeue && view.status !== 'PREQUEUED') placed(view);
    render(view);
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
    case 'PREQUEUED':
      prequeued(view);
      later(nextDelay({ kind: 'ok', pollAfterMs: view.pollAfterMs }), poll);
      return;
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

/** The pre-queue: the open and the draw counted down, the draw explained with its commitment. @param {TicketView} view */
function prequeued(view) {
  const first = document.body.dataset.showing !== 'prequeued';
  const opensAt = Date.parse(view.opensAt ?? '');
  const lead = t('prequeueLead', { time: Number.isFinite(opensAt) ? format.moment(onThisClock(opensAt)) : '' });
  setText('prequeue-lead', lead);
  byId('drawing').hidden = !view.drawing;
  showDraw(view.drawCommitment, undefined);
  const tick = () => {
    const left = opensAt - serverNow();
    setText('draw-in', formatCountdown(Math.max(0, left)));
    if (left <= 0) clearInterval(drawCountdown);
  };
  clearInterval(drawCountdown);
  if (Number.isFinite(opensAt)) {
    tick();
    drawCountdown = setInterval(tick, 1_000);
  }
  setTitle(t('titlePrequeue'));
  showScreen('prequeued', { focus: first });
  if (first) announce(lead);
}

/** The draw placed the shopper: from now on the ticket with the place in line. @param {TicketView} view */
function placed(view) {
  clearInterval(drawCountdown);
  stored = {
    ticket: view.ticket ?? '',
    queueNumber: view.queueNumber,
    startPosition: Math.max(1, view.position),
    shopperId: shopperOf(page),
    drawn: true,
  };
  saveTicket(page, stored);
}

/**
 * The draw's box: its commitment, and the seed once revealed.
 * @param {string | undefined} commitment
 * @param {string | null | undefined} seed
 */
function showDraw(commitment, seed) {
  if (commitment) setText('draw-commitment', commitment);
  if (seed) {
    setText('draw-seed', seed);
    seedShown = true;
  }
  byId('drawn-note').hidden = !stored?.drawn;
  byId('draw').hidden = false;
}

/** A drawn shopper in line: the published draw, asked again until its seed is revealed (when the last drawn shopper is in line). */
async function revealDraw() {
  const draw = await api(page, 'GET', 'draw');
  if (draw.ok) showDraw(draw.body.commitment, draw.body.seed);
}

/** @param {TicketView} view */
function waiting(view) {
  const first = document.body.dataset.showing !== 'waiting';
  if (stored?.drawn && !seedShown) void revealDraw();
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
  clearInterval(drawCountdown);
  byId('draw').hidden = true;
  showOutcome(name);
}

/**
 * The countdown to the open, or to the pre-queue's opening when the deal has one.
 * @param {number} opensAt by the server's clock
 * @param {number} prequeueOpensAt by the server's clock (NaN: no pre-queue)
 */
function notOpen(opensAt, prequeueOpensAt) {
  if (!Number.isFinite(opensAt)) return retry.failed({ ok: false, status: 503 }, 'join', join);
  notice();
  const joinAt = Number.isFinite(prequeueOpensAt) ? prequeueOpensAt : opensAt;
  setText(
    'notopen-lead',
    Number.isFinite(prequeueOpensAt)
      ? t('prequeueNotOpenLead', { time: format.moment(onThisClock(prequeueOpensAt)), opens: format.moment(onThisClock(opensAt)) })
      : t('notOpenLead', { time: format.moment(onThisClock(opensAt)) }),
  );
  showScreen('notopen', { focus: document.body.dataset.showing !== 'notopen' });
  const tick = () => {
    const left = joinAt - serverNow();
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
