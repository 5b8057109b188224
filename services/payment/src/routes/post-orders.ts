import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { AppError, errors, headerOf, jsonBodyOf, ownTicketOf, type AppEnv } from '@quickdeal/core';
import type { PaymentDeps } from '../payment-deps.js';
import { PaymentFlow, type PaidOrder } from '../payment-flow.js';
import { Settlement } from '../settlement.js';

const orderBodySchema = z
  .object({
    paymentMethod: z
      .object({ token: z.string().min(1).max(200) })
      .strict()
      .optional(),
  })
  .strict();
export type OrderRequest = z.output<typeof orderBodySchema>;
export type OrderAnswer = PaidOrder;

/** A payment body is a card token or nothing; anything bigger is refused before it is read whole. */
export const maxOrderBodyBytes = 4 * 1024;

const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

/** `POST /api/v1/deals/{dealId}/orders` with an Idempotency-Key: pays for the open checkout (201), once per key. */
export function installPostOrders(app: Hono<AppEnv>, deps: PaymentDeps): void {
  const flow = new PaymentFlow({ ...deps, settlement: new Settlement(deps) });
  const orderBodyLimit = bodyLimit({
    maxSize: maxOrderBodyBytes,
    onError: () => {
      throw new AppError(413, 'BODY_TOO_LARGE', `A payment body is at most ${maxOrderBodyBytes} bytes`);
    },
  });

  app.post('/api/v1/deals/:dealId/orders', orderBodyLimit, async (c) => {
    const { claims } = await ownTicketOf(c, deps.verifier);
    const idempotencyKey = headerOf(c, 'Idempotency-Key');
    if (!idempotencyKey)
      throw errors.badRequest('IDEMPOTENCY_KEY_MISSING', 'Send an Idempotency-Key header so a retried payment is not taken twice');
    if (!idempotencyKeyPattern.test(idempotencyKey))
      throw errors.badRequest('IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key must be 1 to 200 visible ASCII characters');
    const body = await jsonBodyOf(c, orderBodySchema);
    const answer: OrderAnswer = await flow.pay({
      dealId: claims.deal,
      shopperId: claims.sub,
      queueNumber: claims.qn,
      idempotencyKey,
      paymentToken: body.paymentMethod?.token,
    });
    return c.json(answer, 201);
  });
}
