import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/** No oversell: Postgres's sold within stock, every unit an order, every order an admitted shopper's. */
export function checkNoOversell({ truth, admittedByQn }: Sale): { check: InvariantCheck; oversoldUnits: number } {
  const check = new Check(
    'no-oversell',
    'No oversell: sold ≤ stock in Postgres, one order per sold unit, orders only from admitted shoppers',
  );
  const pg = truth.postgres;
  const oversoldUnits = Math.max(0, pg.sold - pg.stock, pg.orders.length - pg.stock);
  if (oversoldUnits > 0) check.fail(`sold ${pg.sold} and ${pg.orders.length} orders for a stock of ${pg.stock}`, oversoldUnits);
  if (pg.orders.length !== pg.sold) check.fail(`Postgres counts sold = ${pg.sold} but holds ${pg.orders.length} orders`);
  if (truth.redis.sold !== pg.sold) check.fail(`Redis believes ${truth.redis.sold} sold, Postgres says ${pg.sold}`);
  for (const order of pg.orders) {
    const admission = admittedByQn.get(order.queueNumber);
    if (!admission || admission.shopperId !== order.shopperId) {
      check.fail(`order of ${order.shopperId} (queue number ${order.queueNumber}) without an admission`);
    }
  }
  return { check: check.result(), oversoldUnits };
}
