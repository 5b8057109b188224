/**
 * The pages' words in English and Korean, chosen on the server from Accept-Language. The pages
 * render with them and hand the same table to their scripts, so a shopper never sees a mix.
 */
export type Lang = 'en' | 'ko';

export interface PageLocale {
  lang: Lang;
  /** The BCP 47 tag numbers, prices and times are formatted with, e.g. ko-KR or en-GB. */
  tag: string;
}

const en = {
  brand: 'QuickDeal',
  roomTitle: 'Waiting room',
  checkoutTitle: 'Checkout',
  noscript: 'This page needs JavaScript to keep your place in line. Please turn it on and reload.',
  loading: 'Checking your place in line…',
  notFoundHeading: 'We couldn’t find this sale',
  notFoundLead: 'The link may be wrong, or the sale may have been taken down.',

  joinHeading: 'Get your place in line',
  joinLead: 'Shoppers go through to checkout strictly in the order they join. Keep this page open while you wait.',
  shopperLabel: 'Shopper ID',
  shopperHint: 'Local testing: each browser tab can be a different shopper. Letters, digits and . _ : @ - only.',
  joinButton: 'Join the line',
  joining: 'Getting your place…',

  waitingHeading: 'You’re in line',
  yourNumber: 'Your number',
  ahead: 'Ahead of you',
  unitsLeft: 'Units left',
  eta: 'Estimated wait',
  progressLabel: 'Your progress in line',
  next: 'You’re next',
  aheadCount: '{n}',
  unitsCount: '{n}',
  etaSoon: 'under a minute',
  etaMinutes: 'about {m} min',
  etaHours: 'about {h} h {m} min',
  keepOpen: 'Keep this page open: we’ll take you to checkout when it’s your turn. Reloading won’t lose your place.',
  paused: 'The sale is paused for a moment. You keep your place.',
  fewUnits: 'Fewer units are left than shoppers ahead of you, so you may miss out — but not everyone ahead will buy.',
  announceWaiting: 'Number {qn}. Ahead of you: {ahead}. Estimated wait: {eta}.',
  titleWaiting: '({ahead}) Waiting',

  grantedHeading: 'It’s your turn!',
  grantedLead: 'A unit is held for you until {time}. Taking you to checkout…',
  goToCheckout: 'Go to checkout',
  titleGranted: '▶ Your turn!',

  soldOutHeading: 'Sold out',
  soldOutLead: 'Every unit of this deal has been sold. Thank you for waiting.',
  soldOutNotCharged: 'Everything sold out before your payment went through. You were not charged.',

  purchasedHeading: 'You bought it!',
  purchasedLead: 'Your order is confirmed. Thank you!',
  alreadyPurchased: 'You have already bought this deal. It’s one per shopper.',
  orderNumber: 'Order number',

  expiredHeading: 'Your turn has passed',
  expiredLead:
    'The time to pay ran out or the checkout was given up, so the unit went to the next shopper. You can join the line again at the back.',
  ticketExpiredLead: 'Your place in line has expired. You can join the line again at the back.',
  rejoin: 'Join the line again',

  notOpenHeading: 'The sale hasn’t started yet',
  notOpenLead: 'It opens at {time}. Keep this page open: we’ll put you in line as soon as it opens.',
  closedHeading: 'This sale has ended',
  closedLead: 'It is no longer taking shoppers.',

  offline: 'Connection lost. Trying again in {s} s. You keep your place.',
  busy: 'It’s very busy right now. Checking again in {s} s. You keep your place.',
  busyJoin: 'It’s very busy right now. We’ll ask for a place again in {s} s.',
  identity: 'We couldn’t tell who you are. Please sign in to the shop and open this page again.',
  shopperInvalid: 'Use 1 to 128 letters, digits or . _ : @ - for the shopper ID.',
  notFound: 'We couldn’t find this sale. Please check the link.',
  generic: 'Something went wrong on our side. Please try again in a moment.',
  tryAgain: 'Try again',
  problemHeading: 'Something went wrong',

  checkoutLoading: 'Opening your checkout…',
  timeLeft: 'Time left to pay',
  payBy: 'Pay by {time}. After that the unit goes to the next shopper in line.',
  testCard: 'Test card',
  testCardHint: 'Local demo: no money moves.',
  cardApprove: 'Approved',
  cardDecline: 'Declined',
  cardTimeout: 'No answer',
  pay: 'Pay {price}',
  paying: 'Paying…',
  cancel: 'Give up this unit',
  cancelConfirm: 'Give up your unit? It goes to the next shopper, and you would have to queue again.',
  cancelYes: 'Yes, give it up',
  cancelNo: 'Keep it',
  declined: 'Your card was declined and nothing was charged. The unit is still yours until {time}: try again or use another card.',
  payUnavailable: 'The payment didn’t go through just now. The unit is still yours until {time}. Please try again.',
  payLost: 'We lost the connection while paying. Press Pay again: you won’t be charged twice.',
  payInProgress: 'Your payment is still being processed…',
  announceTimeLeft: '{t} left to pay.',
  paidHeading: 'Paid: it’s yours!',
  paidLead: 'Thank you. Your order is confirmed.',
  cancelledHeading: 'You gave up this unit',
  cancelledLead: 'It went to the next shopper in line.',
  timeUpHeading: 'Time’s up',
  timeUpLead: 'The time to pay ran out and the unit went to the next shopper in line.',
  prequeueNotOpenLead:
    'The pre-queue opens at {time}, before the sale opens at {opens}. Keep this page open: we’ll add you as soon as it opens.',
  prequeueHeading: 'You’re in the pre-queue',
  prequeueLead:
    'Your place in line is drawn at the open, {time}. Everyone who joins before then has the same chance: joining earlier or reloading doesn’t change it.',
  prequeueCountdown: 'The sale opens in',
  drawingNow: 'The sale has opened: the draw is placing everyone in line…',
  titlePrequeue: 'Pre-queue',
  drawHeading: 'How the draw works',
  drawExplained:
    'Before the pre-queue opened we picked a secret random number, the seed, and published its fingerprint below. At the open each shopper’s place follows from the seed and their shopper ID alone, so nobody, not even us, can move anyone. After the open we reveal the seed: anyone can recompute the draw and see that it matches the fingerprint.',
  drawCommitment: 'Seed fingerprint (SHA-256)',
  drawSeed: 'Revealed seed',
  drawSeedPending: 'revealed once everyone is in line',
  drawVerify: 'Check the draw yourself (the seed, its fingerprint and the method)',
  drawnNote: 'Your place was drawn at the open.',
  proofOfWork: 'Checking your browser with a short calculation that keeps bots out…',
  noTicketHeading: 'You don’t have a place in line yet',
  noTicketLead: 'Checkout opens when your turn comes in the waiting room.',
  toWaitingRoom: 'Go to the waiting room',
};

export type Messages = Record<keyof typeof en, string>;

const ko: Messages = {
  brand: '퀵딜',
  roomTitle: '대기실',
  checkoutTitle: '결제',
  noscript: '대기 순서를 유지하려면 JavaScript가 필요합니다. JavaScript를 켠 뒤 새로고침해 주세요.',
  loading: '대기 순서를 확인하는 중…',
  notFoundHeading: '이 딜을 찾을 수 없습니다',
  notFoundLead: '주소가 잘못되었거나 판매가 내려갔을 수 있습니다.',

  joinHeading: '대기열에 참여하세요',
  joinLead: '참여한 순서대로 결제 페이지에 입장합니다. 기다리는 동안 이 페이지를 열어 두세요.',
  shopperLabel: '쇼핑객 ID',
  shopperHint: '로컬 테스트용: 브라우저 탭마다 다른 쇼핑객이 될 수 있습니다. 영문, 숫자와 . _ : @ - 만 쓸 수 있습니다.',
  joinButton: '대기열 참여하기',
  joining: '대기 번호를 받는 중…',

  waitingHeading: '대기 중입니다',
  yourNumber: '내 대기 번호',
  ahead: '내 앞 대기',
  unitsLeft: '남은 수량',
  eta: '예상 대기 시간',
  progressLabel: '대기 진행률',
  next: '다음 차례입니다',
  aheadCount: '{n}명',
  unitsCount: '{n}개',
  etaSoon: '1분 이내',
  etaMinutes: '약 {m}분',
  etaHours: '약 {h}시간 {m}분',
  keepOpen: '차례가 되면 결제 페이지로 자동 이동합니다. 이 페이지를 닫지 마세요. 새로고침해도 순서는 유지됩니다.',
  paused: '판매가 잠시 멈췄습니다. 순서는 그대로 유지됩니다.',
  fewUnits: '앞선 대기 인원보다 남은 수량이 적어 구매하지 못할 수도 있습니다. 다만 앞사람이 모두 구매하지는 않습니다.',
  announceWaiting: '대기 번호 {qn}번. 내 앞 대기 {ahead}. 예상 대기 시간 {eta}.',
  titleWaiting: '({ahead}) 대기 중',

  grantedHeading: '내 차례입니다!',
  grantedLead: '{time}까지 상품이 확보되어 있습니다. 결제 페이지로 이동합니다…',
  goToCheckout: '결제하러 가기',
  titleGranted: '▶ 내 차례!',

  soldOutHeading: '품절되었습니다',
  soldOutLead: '이 딜의 모든 수량이 판매되었습니다. 기다려 주셔서 감사합니다.',
  soldOutNotCharged: '결제가 끝나기 전에 모두 판매되었습니다. 청구된 금액은 없습니다.',

  purchasedHeading: '구매 완료!',
  purchasedLead: '주문이 확정되었습니다. 감사합니다!',
  alreadyPurchased: '이미 이 딜을 구매하셨습니다. 1인 1개만 구매할 수 있습니다.',
  orderNumber: '주문 번호',

  expiredHeading: '차례가 지났습니다',
  expiredLead: '결제 시간이 지났거나 구매를 포기하여 상품이 다음 분께 넘어갔습니다. 대기열 맨 뒤에서 다시 참여할 수 있습니다.',
  ticketExpiredLead: '대기 번호의 유효 시간이 지났습니다. 대기열 맨 뒤에서 다시 참여할 수 있습니다.',
  rejoin: '다시 줄 서기',

  notOpenHeading: '아직 판매 시작 전입니다',
  notOpenLead: '{time}에 시작합니다. 이 페이지를 열어 두시면 시작과 동시에 대기열에 넣어 드립니다.',
  closedHeading: '판매가 종료되었습니다',
  closedLead: '더 이상 대기열을 받지 않습니다.',

  offline: '연결이 끊겼습니다. {s}초 후 다시 시도합니다. 순서는 유지됩니다.',
  busy: '접속자가 많습니다. {s}초 후 다시 확인합니다. 순서는 유지됩니다.',
  busyJoin: '접속자가 많습니다. {s}초 후 다시 대기 번호를 요청합니다.',
  identity: '로그인 정보를 확인할 수 없습니다. 쇼핑몰에 로그인한 뒤 이 페이지를 다시 열어 주세요.',
  shopperInvalid: '쇼핑객 ID는 영문, 숫자와 . _ : @ - 로 1~128자여야 합니다.',
  notFound: '이 딜을 찾을 수 없습니다. 주소를 확인해 주세요.',
  generic: '일시적인 문제가 발생했습니다. 잠시 후 다시 시도해 주세요.',
  tryAgain: '다시 시도',
  problemHeading: '문제가 발생했습니다',

  checkoutLoading: '결제 페이지를 여는 중…',
  timeLeft: '남은 결제 시간',
  payBy: '{time}까지 결제해 주세요. 시간이 지나면 다음 대기자에게 넘어갑니다.',
  testCard: '테스트 카드',
  testCardHint: '로컬 데모: 실제로 결제되지 않습니다.',
  cardApprove: '승인',
  cardDecline: '거절',
  cardTimeout: '응답 없음',
  pay: '{price} 결제하기',
  paying: '결제 중…',
  cancel: '구매 포기',
  cancelConfirm: '정말 포기하시겠어요? 상품은 다음 대기자에게 넘어가고 다시 줄을 서야 합니다.',
  cancelYes: '네, 포기합니다',
  cancelNo: '계속 결제하기',
  declined: '카드 결제가 거절되어 청구된 금액은 없습니다. {time}까지 상품이 유지되니 다시 시도하거나 다른 카드를 사용해 주세요.',
  payUnavailable: '지금은 결제가 완료되지 않았습니다. {time}까지 상품이 유지되니 다시 시도해 주세요.',
  payLost: '결제 중 연결이 끊겼습니다. 결제하기를 다시 눌러 주세요. 두 번 청구되지 않습니다.',
  payInProgress: '결제를 처리하고 있습니다…',
  announceTimeLeft: '결제 시간 {t} 남음.',
  paidHeading: '결제 완료!',
  paidLead: '감사합니다. 주문이 확정되었습니다.',
  cancelledHeading: '구매를 포기했습니다',
  cancelledLead: '상품은 다음 대기자에게 넘어갔습니다.',
  timeUpHeading: '결제 시간이 끝났습니다',
  timeUpLead: '결제 시간이 지나 상품이 다음 대기자에게 넘어갔습니다.',
  prequeueNotOpenLead:
    '사전 대기열은 {time}에 열리고, 판매는 {opens}에 시작합니다. 이 페이지를 열어 두시면 열리는 즉시 사전 대기열에 넣어 드립니다.',
  prequeueHeading: '사전 대기열에 들어왔습니다',
  prequeueLead:
    '대기 순서는 판매 시작 시각({time})에 추첨으로 정해집니다. 그 전에 들어온 분은 모두 같은 기회를 가지며, 일찍 들어오거나 새로고침해도 달라지지 않습니다.',
  prequeueCountdown: '판매 시작까지',
  drawingNow: '판매가 시작되어 모든 분의 순서를 추첨하는 중입니다…',
  titlePrequeue: '사전 대기',
  drawHeading: '추첨 방식',
  drawExplained:
    '사전 대기열이 열리기 전에 비밀 난수(시드)를 정하고 그 지문을 아래에 공개했습니다. 판매가 시작되면 각자의 순서는 시드와 쇼핑객 ID만으로 정해지므로 저희를 포함해 누구도 순서를 바꿀 수 없습니다. 시작 후 시드를 공개하니, 누구나 추첨을 다시 계산해 지문과 일치하는지 확인할 수 있습니다.',
  drawCommitment: '시드 지문 (SHA-256)',
  drawSeed: '공개된 시드',
  drawSeedPending: '모두 대기열에 배치되면 공개됩니다',
  drawVerify: '추첨 직접 확인하기 (시드, 지문, 계산 방법)',
  drawnNote: '내 순서는 판매 시작 때 추첨으로 정해졌습니다.',
  proofOfWork: '자동 프로그램을 막기 위해 브라우저에서 짧은 계산을 하는 중입니다…',
  noTicketHeading: '아직 대기 번호가 없습니다',
  noTicketLead: '대기실에서 차례가 되면 결제 페이지가 열립니다.',
  toWaitingRoom: '대기실로 가기',
};

export const messages: Record<Lang, Messages> = { en, ko };

const defaultTags: Record<Lang, string> = { en: 'en-US', ko: 'ko-KR' };

/**
 * The language and formatting locale for an Accept-Language header: the first range by quality
 * whose language is Korean or English. A shopper whose browser asks for neither gets English.
 */
export function negotiateLocale(acceptLanguage: string | undefined): PageLocale {
  const ranges = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [range = '', ...params] = part.trim().split(';');
      const quality = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { range: range.trim(), q: quality ? Number(quality.slice(2)) : 1, index };
    })
    .filter((entry) => entry.range !== '' && Number.isFinite(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { range } of ranges) {
    const lang = range.split('-')[0]?.toLowerCase();
    if (lang === 'en' || lang === 'ko') return { lang, tag: formattingTag(lang, range) };
  }
  return { lang: 'en', tag: defaultTags.en };
}

/** The requested tag when it names a region Intl knows (en-GB formats times its own way), else the language's default. */
function formattingTag(lang: Lang, range: string): string {
  if (!range.includes('-')) return defaultTags[lang];
  try {
    const [canonical] = Intl.getCanonicalLocales(range);
    return canonical && Intl.NumberFormat.supportedLocalesOf(canonical).length > 0 ? canonical : defaultTags[lang];
  } catch {
    return defaultTags[lang];
  }
}

/**
 * A price in the currency's minor unit (DESIGN.md: KRW has none) formatted for the locale,
 * e.g. 1550000 KRW → ₩1,550,000 and 1999 USD → $19.99.
 */
export function formatMoney(minorUnits: number, currency: string, tag: string): string {
  try {
    const format = new Intl.NumberFormat(tag, { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 0;
    return format.format(minorUnits / 10 ** digits);
  } catch {
    return `${minorUnits} ${currency}`;
  }
}
