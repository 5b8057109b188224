import { statusRank } from '../flash-sale.js';
import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/** The API agrees: a status only moves forward and matches the truth, during the run and after it. */
export function checkApiAgrees({ evidence, admittedShoppers, orderByShopper }: Sale): InvariantCheck {
  const check = new Check('api-agrees', 'The API agrees with the truth: statuses only move forward, grants and purchases are real');
  for (const t of evidence.answered) {
    let rank = -1;
    let terminal: string | undefined;
    for (const status of t.statuses) {
      const r = statusRank[status] ?? -1;
      if (r < rank || (terminal !== undefined && status !== terminal)) {
        check.fail(`${t.shopperId} saw ${t.statuses.join(' → ')}`);
        break;
      }
      rank = r;
      if (r === 2) terminal = status;
    }
    if (t.statuses.includes('ACCESS_GRANTED') && !admittedShoppers.has(t.shopperId))
      check.fail(`${t.shopperId} was told ACCESS_GRANTED but was never admitted`);
    if (t.statuses.includes('PURCHASED') && !orderByShopper.has(t.shopperId))
      check.fail(`${t.shopperId} was told PURCHASED but has no order`);
  }
  for (const answer of evidence.apiAnswers ?? []) {
    const admitted = admittedShoppers.has(answer.shopperId);
    const admittedLike = ['ACCESS_GRANTED', 'PURCHASED'].includes(answer.status);
    const waitingLike = ['ACCESS_DENIED', 'ITEM_SOLD_OUT'].includes(answer.status);
    if (
      (admittedLike && !admitted) ||
      (waitingLike && admitted) ||
      (answer.status === 'PURCHASED') !== orderByShopper.has(answer.shopperId)
    ) {
      check.fail(
        `after the run the API told ${answer.shopperId} ${answer.status}, but they were ${admitted ? 'admitted' : 'not admitted'}${orderByShopper.has(answer.shopperId) ? ' and paid' : ''}`,
      );
    }
  }
  return check.result();
}
