/**
 * The HTML of the waiting-room and checkout pages. Every screen a shopper can meet is rendered
 * here, hidden, in the negotiated language; the page's script only picks which one shows and fills
 * in the numbers. Dynamic text is always escaped.
 */
import { formatMoney, type Messages, type PageLocale } from './i18n.js';

/** How the page names the shopper: a typed id (local development only), a gateway's X-User-Id, or the shop's session token. */
export type Identity = 'input' | 'gateway' | 'session';

export interface PageDeal {
  dealId: string;
  productName: string;
  price: number;
  currency: string;
  /** The deal asks ticket requests for a solved proof-of-work challenge (spec.queue.proofOfWork). */
  proofOfWork?: boolean;
}

export interface PageContext {
  locale: PageLocale;
  strings: Messages;
  identity: Identity;
  assetsBase: string;
}

/** What a page's script reads from its `<script type="application/json" id="qd-page">`. */
export interface ClientConfig {
  dealId: string;
  lang: string;
  locale: string;
  identity: Identity;
  roomUrl: string;
  checkoutUrl: string;
  strings: Messages;
  /** Solve a proof-of-work challenge before asking for a ticket (the page also learns it from a 428). */
  proofOfWork: boolean;
  /** The Web Worker that solves it, served with the other assets. */
  powWorkerUrl: string;
  /** The deal's published draw (its commitment, and the seed once revealed). */
  drawUrl: string;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => entities[ch] ?? ch);
}

/** JSON that cannot end its `<script>` element early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const roomUrl = (dealId: string) => `/deals/${dealId}`;
export const checkoutUrl = (dealId: string) => `/deals/${dealId}/checkout`;
export const drawUrl = (dealId: string) => `/api/v1/deals/${dealId}/draw`;

function layout(ctx: PageContext, options: { title: string; script?: string; config?: ClientConfig; body: string }): string {
  const { lang } = ctx.locale;
  const scripts = options.script
    ? `<link rel="modulepreload" href="${ctx.assetsBase}/lib.js">\n<link rel="modulepreload" href="${ctx.assetsBase}/common.js">\n<script type="module" src="${ctx.assetsBase}/${options.script}"></script>`
    : '';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ctx.assetsBase}/qd.css">
${scripts}
</head>
<body>
<div class="shell">
<header class="brand-bar"><span class="brand">${escapeHtml(ctx.strings.brand)}</span></header>
<main id="main" class="card">
${options.body}
</main>
</div>
<div id="live" class="visually-hidden" role="status"></div>
<div id="alert" class="visually-hidden" role="alert"></div>
${options.config ? `<script type="application/json" id="qd-page">${scriptJson(options.config)}</script>` : ''}
</body>
</html>
`;
}

function dealHeader(ctx: PageContext, deal: PageDeal, eyebrow: string): string {
  return `<div class="deal">
<p class="eyebrow">${escapeHtml(eyebrow)}</p>
<h1>${escapeHtml(deal.productName)}</h1>
<p class="price">${escapeHtml(formatMoney(deal.price, deal.currency, ctx.locale.tag))}</p>
</div>`;
}

/** A screen: a section with a heading, shown by the script when its name is the page's state. */
function screen(name: string, heading: string, content: string, shown = false): string {
  return `<section data-screen="${name}" aria-labelledby="${name}-heading"${shown ? '' : ' hidden'}>
<h2 id="${name}-heading" tabindex="-1">${escapeHtml(heading)}</h2>
${content}
</section>`;
}

const p = (text: string, attributes = '') => `<p${attributes}>${escapeHtml(text)}</p>`;
const link = (href: string, text: string, kind = 'primary') => `<a class="button ${kind}" href="${href}">${escapeHtml(text)}</a>`;

/** The parts both pages share: the problem screen, the notice line and the noscript warning. */
function commonScreens(m: Messages): string {
  return `${screen('problem', m.problemHeading, `${p('', ' id="problem-text"')}\n<button type="button" class="primary" id="retry">${escapeHtml(m.tryAgain)}</button>`)}
<p id="notice" class="notice" hidden></p>
<noscript>${p(m.noscript, ' class="notice"')}</noscript>`;
}

function clientConfig(ctx: PageContext, dealId: string, proofOfWork = false): ClientConfig {
  return {
    proofOfWork,
    powWorkerUrl: `${ctx.assetsBase}/pow-worker.js`,
    drawUrl: drawUrl(dealId),
    dealId,
    lang: ctx.locale.lang,
    locale: ctx.locale.tag,
    identity: ctx.identity,
    roomUrl: roomUrl(dealId),
    checkoutUrl: checkoutUrl(dealId),
    strings: ctx.strings,
  };
}

export function renderRoomPage(ctx: PageContext, deal: PageDeal): string {
  const m = ctx.strings;
  const shopperField =
    ctx.identity === 'input'
      ? `<label for="shopper">${escapeHtml(m.shopperLabel)}</label>
<input id="shopper" name="shopper" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="128" required aria-describedby="shopper-hint shopper-error">
${p(m.shopperHint, ' id="shopper-hint" class="hint"')}
${p('', ' id="shopper-error" class="field-error" hidden')}`
      : '';
  const body = `${dealHeader(ctx, deal, m.roomTitle)}
<section data-screen="loading">${p(m.loading, ' class="muted"')}</section>
${screen(
  'join',
  m.joinHeading,
  `${p(m.joinLead)}
<form id="join-form" novalidate>
${shopperField}
<button type="submit" class="primary" id="join">${escapeHtml(m.joinButton)}</button>
</form>`,
)}
${screen(
  'waiting',
  m.waitingHeading,
  `<p class="qn"><span class="qn-label">${escapeHtml(m.yourNumber)}</span> <strong id="queue-number" class="qn-value">–</strong></p>
<dl class="stats">
<div><dt>${escapeHtml(m.ahead)}</dt><dd id="ahead">–</dd></div>
<div><dt>${escapeHtml(m.unitsLeft)}</dt><dd id="units">–</dd></div>
<div><dt>${escapeHtml(m.eta)}</dt><dd id="eta">–</dd></div>
</dl>
<label class="progress-label" for="progress">${escapeHtml(m.progressLabel)}</label>
<progress id="progress" max="100" value="0"></progress>
${p(m.paused, ' id="paused" class="note" hidden')}
${p(m.fewUnits, ' id="few-units" class="note" hidden')}
${p(m.keepOpen, ' class="muted"')}`,
)}
${screen('granted', m.grantedHeading, `${p('', ' id="granted-lead"')}\n${link(checkoutUrl(deal.dealId), m.goToCheckout)}`)}
${screen('soldout', m.soldOutHeading, p(m.soldOutLead))}
${screen('purchased', m.purchasedHeading, `${p(m.purchasedLead, ' id="purchased-lead"')}\n<p id="purchased-order" hidden>${escapeHtml(m.orderNumber)} <strong id="order-id"></strong></p>`)}
${screen('expired', m.expiredHeading, `${p(m.expiredLead, ' id="expired-lead"')}\n<button type="button" class="primary" id="rejoin">${escapeHtml(m.rejoin)}</button>`)}
${screen('notopen', m.notOpenHeading, `${p('', ' id="notopen-lead"')}\n<p class="countdown" id="opens-in" role="timer"></p>`)}
${screen(
  'prequeued',
  m.prequeueHeading,
  `${p('', ' id="prequeue-lead"')}
<p class="deadline-label" id="draw-in-label">${escapeHtml(m.prequeueCountdown)}</p>
<p class="countdown" id="draw-in" role="timer" aria-labelledby="draw-in-label">–</p>
${p(m.drawingNow, ' id="drawing" class="note" hidden')}
${p(m.keepOpen, ' class="muted"')}`,
)}
${screen('closed', m.closedHeading, p(m.closedLead))}
${drawBox(m, deal.dealId)}
${p(m.proofOfWork, ' id="pow-working" class="note" hidden')}
${commonScreens(m)}`;
  return layout(ctx, {
    title: `${m.roomTitle} · ${deal.productName}`,
    script: 'room.js',
    config: clientConfig(ctx, deal.dealId, deal.proofOfWork ?? false),
    body,
  });
}

/** The pre-queue's draw in plain words, its commitment, the seed once revealed, and where to check it; shown beside the pre-queue and the line. */
function drawBox(m: Messages, dealId: string): string {
  return `<aside id="draw" class="draw" aria-labelledby="draw-heading" hidden>
<h3 id="draw-heading">${escapeHtml(m.drawHeading)}</h3>
${p(m.drawnNote, ' id="drawn-note" hidden')}
${p(m.drawExplained)}
<dl class="draw-facts">
<div><dt>${escapeHtml(m.drawCommitment)}</dt><dd><code id="draw-commitment">–</code></dd></div>
<div><dt>${escapeHtml(m.drawSeed)}</dt><dd><code id="draw-seed">${escapeHtml(m.drawSeedPending)}</code></dd></div>
</dl>
<p><a id="draw-verify" href="${drawUrl(dealId)}">${escapeHtml(m.drawVerify)}</a></p>
</aside>`;
}

export function renderCheckoutPage(ctx: PageContext, deal: PageDeal): string {
  const m = ctx.strings;
  const price = formatMoney(deal.price, deal.currency, ctx.locale.tag);
  const card = (value: string, label: string, checked = false) =>
    `<label class="choice"><input type="radio" name="card" value="${value}"${checked ? ' checked' : ''}> ${escapeHtml(label)}</label>`;
  const testCards =
    ctx.identity === 'input'
      ? `<fieldset class="cards">
<legend>${escapeHtml(m.testCard)}</legend>
${card('tok_approve', m.cardApprove, true)}
${card('tok_decline', m.cardDecline)}
${card('tok_timeout', m.cardTimeout)}
${p(m.testCardHint, ' class="hint"')}
</fieldset>`
      : '';
  const body = `${dealHeader(ctx, deal, m.checkoutTitle)}
<section data-screen="loading">${p(m.checkoutLoading, ' class="muted"')}</section>
<section data-screen="checkout" aria-labelledby="time-left-label" hidden>
<div class="deadline">
<p class="deadline-label" id="time-left-label">${escapeHtml(m.timeLeft)}</p>
<p class="countdown" id="countdown" role="timer" aria-labelledby="time-left-label">–</p>
${p('', ' id="pay-by" class="muted"')}
</div>
${testCards}
${p('', ' id="pay-problem" class="problem" hidden')}
<div class="actions" id="actions">
<button type="button" class="primary" id="pay">${escapeHtml(m.pay.replace('{price}', price))}</button>
<button type="button" class="secondary" id="cancel">${escapeHtml(m.cancel)}</button>
</div>
<div class="confirm" id="confirm-cancel" role="group" aria-labelledby="confirm-text" hidden>
${p(m.cancelConfirm, ' id="confirm-text"')}
<div class="actions">
<button type="button" class="danger" id="cancel-yes">${escapeHtml(m.cancelYes)}</button>
<button type="button" class="secondary" id="cancel-no">${escapeHtml(m.cancelNo)}</button>
</div>
</div>
</section>
${screen('paid', m.paidHeading, `${p(m.paidLead)}\n<p id="paid-order" hidden>${escapeHtml(m.orderNumber)} <strong id="order-id"></strong></p>`)}
${screen('cancelled', m.cancelledHeading, `${p(m.cancelledLead)}\n${link(roomUrl(deal.dealId), m.rejoin, 'secondary')}`)}
${screen('timeup', m.timeUpHeading, `${p(m.timeUpLead)}\n${link(roomUrl(deal.dealId), m.rejoin)}`)}
${screen('soldout', m.soldOutHeading, p(m.soldOutLead, ' id="soldout-lead"'))}
${screen('noticket', m.noTicketHeading, `${p(m.noTicketLead)}\n${link(roomUrl(deal.dealId), m.toWaitingRoom)}`)}
${commonScreens(m)}`;
  return layout(ctx, {
    title: `${m.checkoutTitle} · ${deal.productName}`,
    script: 'checkout.js',
    config: clientConfig(ctx, deal.dealId),
    body,
  });
}

export function renderNotFoundPage(ctx: PageContext): string {
  const m = ctx.strings;
  return layout(ctx, { title: m.notFoundHeading, body: screen('notfound', m.notFoundHeading, p(m.notFoundLead), true) });
}
