import type { Redis } from 'ioredis';
import type { DealSettings } from '../deal-spec.js';
import type {
  Admission,
  AdmitResult,
  BlockReason,
  ClaimResult,
  CompleteResult,
  DealSnapshot,
  DrawClaim,
  DrawState,
  PrequeueResult,
  QueuedTicket,
  ReleaseResult,
  ReserveResult,
  ShopperTicket,
} from '../deal-types.js';
import type { TicketState } from '../ticket-state.js';
import { dealKeys, dealsIndexKey, fixedKeys } from './keys.js';
import * as lua from './lua.js';

const scripts = {
  qdReserveTicket: lua.reserveTicketLua,
  qdFinalizeTicket: lua.finalizeTicketLua,
  qdAbortTicket: lua.abortTicketLua,
  qdAdmitBatch: lua.admitBatchLua,
  qdAdmitAtOnce: lua.admitAtOnceLua,
  qdExpireDue: lua.expireDueLua,
  qdReleaseCheckout: lua.releaseCheckoutLua,
  qdClaimForPayment: lua.claimForPaymentLua,
  qdAbortPayment: lua.abortPaymentLua,
  qdCompletePayment: lua.completePaymentLua,
  qdApplyDeal: lua.applyDealLua,
  qdSnapshot: lua.snapshotLua,
  qdPrequeueTicket: lua.prequeueTicketLua,
  qdClaimDraw: lua.claimDrawLua,
  qdPlaceDrawn: lua.placeDrawnLua,
  qdStoreDrawnToken: lua.storeDrawnTokenLua,
} as const;

type ScriptName = keyof typeof scripts;
type ScriptCall = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/** How long a reservation may wait for Kafka's acknowledgement before a retry may take a new ticket. */
export const pendingTicketTtlMs = 30_000;

const toNumber = (value: unknown, fallback = 0) => {
  const parsed = Number(value);
  return Number.isFinite(parsed) && value !== '' && value !== null && value !== undefined ? parsed : fallback;
};

function pairs(flat: unknown): Record<string, string> {
  const list = flat as string[];
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) record[list[i] as string] = list[i + 1] as string;
  return record;
}

/**
 * Every change to a deal's state in Redis goes through here, and each is one Lua script
 * (see lua.ts), so concurrent services can never double-count a unit or a slot.
 */
export class DealStore {
  constructor(readonly redis: Redis) {
    for (const [name, source] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua: source });
    }
  }

  private run(name: ScriptName, dealId: string, extraKeys: string[], args: (string | number)[]): Promise<unknown> {
    const keys = [...fixedKeys(dealKeys(dealId)), ...extraKeys];
    const call = (this.redis as unknown as Record<ScriptName, ScriptCall>)[name].bind(this.redis);
    return call(keys.length, ...keys, ...args);
  }

  /** Times in the scripts are Redis's own (`TIME`), so replicas with skewed clocks agree on deadlines and leases. */
  async reserveTicket(dealId: string, shopperId: string, jti: string): Promise<ReserveResult> {
    const result = (await this.run('qdReserveTicket', dealId, [dealKeys(dealId).ticket(shopperId)], [jti, pendingTicketTtlMs])) as string[];
    const [outcome, a, b] = result;
    switch (outcome) {
      case 'existing':
        return { outcome, token: a as string, queueNumber: toNumber(b) };
      case 'not_open':
        return { outcome, opensAt: toNumber(a) };
      case 'closed':
        return { outcome, closesAt: toNumber(a) };
      case 'prequeued':
        return { outcome, token: a as string };
      default:
        return { outcome: outcome as 'reserved' | 'pending' | 'purchased' | 'sold_out' | 'unknown_deal' | 'drawing' };
    }
  }

  async finalizeTicket(
    dealId: string,
    shopperId: string,
    ticket: { jti: string; queueNumber: number; token: string; expiresAtMs: number },
    ttlMs: number,
  ): Promise<boolean> {
    const args = [ticket.jti, ticket.queueNumber, ticket.token, ticket.expiresAtMs, Math.max(1, Math.round(ttlMs))];
    return (await this.run('qdFinalizeTicket', dealId, [dealKeys(dealId).ticket(shopperId)], args)) === 1;
  }

  async abortTicket(dealId: string, shopperId: string, jti: string): Promise<void> {
    await this.run('qdAbortTicket', dealId, [dealKeys(dealId).ticket(shopperId)], [jti]);
  }

  async admitBatch(dealId: string, tickets: QueuedTicket[]): Promise<AdmitResult> {
    return this.admit('qdAdmitBatch', dealId, tickets);
  }

  /**
   * A WhenBusy deal's fast path: admits a just-finalized ticket at once when it heads the line.
   * 'queued' when it stays in line for the consumer (Always mode, someone before it not yet
   * processed), 'processed' when the consumer dealt with it first.
   */
  async admitAtOnce(dealId: string, ticket: QueuedTicket): Promise<AdmitResult | 'queued' | 'processed'> {
    const result = await this.admit('qdAdmitAtOnce', dealId, [ticket]);
    const outcome = result.blockedBy as string;
    return outcome === 'queued' || outcome === 'processed' ? outcome : result;
  }

  private async admit(script: 'qdAdmitBatch' | 'qdAdmitAtOnce', dealId: string, tickets: QueuedTicket[]): Promise<AdmitResult> {
    const keys = dealKeys(dealId);
    const args: (string | number)[] = [tickets.length];
    for (const t of tickets) args.push(t.queueNumber, t.shopperId, t.jti, t.expiresAtMs, t.valid ? 1 : 0);
    const ticketKeys = tickets.map((t) => keys.ticket(t.valid ? t.shopperId : `invalid:${t.queueNumber}`));
    const [processed, blockedBy, admitted, invalid, expired, soldOut, duplicate, checkoutsExpired, retryInMs] = (await this.run(
      script,
      dealId,
      ticketKeys,
      args,
    )) as [number, string, number, number, number, number, number, number, number];
    return {
      processed,
      blockedBy: (blockedBy || undefined) as BlockReason | undefined,
      admitted,
      invalid,
      expired,
      soldOut,
      duplicate,
      checkoutsExpired,
      retryInMs,
    };
  }

  /**
   * Ends the checkouts whose deadline passed; returns how many units came back and the shoppers
   * whose payment lease lapsed (deadline or not), for the caller to settle.
   */
  async expireDue(dealId: string, limit = 1000): Promise<{ freed: number; stuck: string[] }> {
    const [freed, ...stuck] = (await this.run('qdExpireDue', dealId, [], [limit])) as [number, ...string[]];
    return { freed, stuck };
  }

  async releaseCheckout(dealId: string, shopperId: string, queueNumber: number): Promise<ReleaseResult> {
    return (await this.run('qdReleaseCheckout', dealId, [dealKeys(dealId).ticket(shopperId)], [shopperId, queueNumber])) as ReleaseResult;
  }

  /** `attempt` (a mark unique to the paying request) makes the claim safe to re-send: the same request gets its own claim back. */
  async claimForPayment(dealId: string, shopperId: string, queueNumber: number, leaseMs: number, attempt = ''): Promise<ClaimResult> {
    const [outcome, value, fence] = (await this.run(
      'qdClaimForPayment',
      dealId,
      [dealKeys(dealId).ticket(shopperId)],
      [shopperId, queueNumber, leaseMs, attempt],
    )) as [string, string | number | undefined, number | undefined];
    switch (outcome) {
      case 'claimed':
        return { outcome, deadline: toNumber(value), fence: String(fence) };
      case 'in_progress':
        return { outcome, payingUntil: toNumber(value) };
      case 'lapsed':
        return { outcome, fence: String(value ?? '') };
      case 'purchased':
        return { outcome, orderId: String(value ?? '') };
      case 'expired':
        return { outcome, checkoutsExpired: toNumber(value) };
      default:
        return { outcome: 'not_admitted' };
    }
  }

  /** Gives a claimed checkout back (open until its deadline); only the claim's own fence can. Answers whether it did. */
  async abortPayment(dealId: string, shopperId: string, queueNumber: number, fence: string): Promise<boolean> {
    return (await this.run('qdAbortPayment', dealId, [dealKeys(dealId).ticket(shopperId)], [shopperId, queueNumber, fence])) === 1;
  }

  /**
   * Marks the checkout purchased. With the claim's fence, only while that claim holds; without
   * (`fence` undefined), because Postgres recorded the order, which is the truth.
   */
  async completePayment(
    dealId: string,
    shopperId: string,
    queueNumber: number,
    orderId: string,
    soldInPostgres: number,
    fence?: string,
  ): Promise<CompleteResult> {
    const result = (await this.run(
      'qdCompletePayment',
      dealId,
      [dealKeys(dealId).ticket(shopperId)],
      [shopperId, queueNumber, orderId, soldInPostgres, fence ?? ''],
    )) as number;
    return result === 1 ? 'completed' : result === 0 ? 'already_purchased' : 'fenced';
  }

  /** Redis's own clock (ms), the one the scripts judge deadlines and leases by. */
  async redisNow(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** The claim on a shopper's checkout, as the settlement needs it. */
  async paymentClaim(
    dealId: string,
    shopperId: string,
  ): Promise<{ state: TicketState; queueNumber: number; fence: string; payingUntil: number | undefined } | undefined> {
    const [state, qn, fence, payingUntil] = await this.redis.hmget(
      dealKeys(dealId).ticket(shopperId),
      'state',
      'qn',
      'fence',
      'payingUntil',
    );
    if (!state) return undefined;
    return {
      state: state as TicketState,
      queueNumber: toNumber(qn),
      fence: fence ?? '',
      payingUntil: payingUntil ? toNumber(payingUntil) : undefined,
    };
  }

  /** Takes a shopper into a deal's pre-queue with their signed pre-queue ticket (one per shopper). */
  async prequeueTicket(dealId: string, shopperId: string, jti: string, token: string): Promise<PrequeueResult> {
    const [outcome, value] = (await this.run(
      'qdPrequeueTicket',
      dealId,
      [dealKeys(dealId).ticket(shopperId)],
      [jti, token, shopperId],
    )) as [string, string | undefined];
    if (outcome === 'existing') return { outcome, token: value ?? '' };
    if (outcome === 'not_prequeue') return { outcome, opensAt: toNumber(value) };
    return { outcome: outcome as 'prequeued' | 'purchased' | 'unknown_deal' };
  }

  /** The pre-queued shoppers and their pre-queue tickets' jti. */
  async prequeuedShoppers(dealId: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(dealKeys(dealId).prequeue)));
  }

  /** Takes or renews the lock on a deal's draw (see claimDrawLua). */
  async claimDraw(dealId: string, holder: string, leaseMs: number): Promise<DrawClaim> {
    const [outcome, a, b, c] = (await this.run('qdClaimDraw', dealId, [], [holder, leaseMs])) as [string, unknown, unknown, unknown];
    if (outcome === 'claimed') return { outcome, fence: String(a), placedBatches: toNumber(b), seed: String(c) };
    if (outcome === 'not_yet') return { outcome, opensAt: toNumber(a) };
    return { outcome: outcome as 'busy' | 'done' | 'none' };
  }

  /** Places one batch of drawn shoppers already written to the log (see placeDrawnLua). */
  async placeDrawn(
    dealId: string,
    claim: { fence: string; holder: string; leaseMs: number },
    batch: { index: number; last: boolean; expiresAtMs: number; shoppers: Array<{ shopperId: string; jti: string; queueNumber: number }> },
  ): Promise<'placed' | 'fenced' | 'stale'> {
    const keys = dealKeys(dealId);
    const args: (string | number)[] = [claim.fence, batch.index, batch.last ? 1 : 0, batch.expiresAtMs, claim.leaseMs, claim.holder];
    for (const s of batch.shoppers) args.push(s.shopperId, s.jti, s.queueNumber);
    return (await this.run(
      'qdPlaceDrawn',
      dealId,
      batch.shoppers.map((s) => keys.ticket(s.shopperId)),
      args,
    )) as 'placed' | 'fenced' | 'stale';
  }

  /** Keeps a drawn ticket's token; answers the one kept (the first signed wins), '' when the record moved on. */
  async storeDrawnToken(dealId: string, shopperId: string, queueNumber: number, token: string): Promise<string> {
    return (await this.run('qdStoreDrawnToken', dealId, [dealKeys(dealId).ticket(shopperId)], [shopperId, queueNumber, token])) as string;
  }

  /** Marks a solved challenge as spent; false when it already was (single use). */
  async spendChallenge(dealId: string, signature: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(dealKeys(dealId).spentChallenge(signature), '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX')) === 'OK';
  }

  async applyDeal(deal: DealSettings, soldInPostgres: number, drawSeed?: { seed: string; commitment: string }): Promise<number> {
    const args = [
      deal.stock,
      deal.cap,
      deal.windowMs,
      deal.opensAt,
      deal.closesAt ?? '',
      deal.paused ? 1 : 0,
      deal.ticketTtlMs,
      deal.price,
      deal.currency,
      deal.productName,
      soldInPostgres,
      deal.queueMode,
      deal.maxAdmissionsPerMinute ?? '',
      deal.prequeueMs,
      drawSeed?.seed ?? '',
      drawSeed?.commitment ?? '',
      deal.proofOfWork?.difficulty ?? '',
      deal.proofOfWork?.maxDifficulty ?? '',
    ];
    const avail = (await this.run('qdApplyDeal', deal.id, [], args)) as number;
    await this.redis.sadd(dealsIndexKey, deal.id);
    return avail;
  }

  async snapshot(dealId: string): Promise<DealSnapshot> {
    const [cfgFlat, available, active, served, sold, statsFlat, [commitment, drawState, seed], prequeued] = (await this.run(
      'qdSnapshot',
      dealId,
      [],
      [],
    )) as [string[], number, number, number, number, string[], Array<string | null>, number];
    const cfg = pairs(cfgFlat);
    const stats = pairs(statsFlat);
    return {
      dealId,
      exists: cfg.stock !== undefined,
      stock: toNumber(cfg.stock),
      cap: toNumber(cfg.cap),
      windowMs: toNumber(cfg.windowMs),
      opensAt: toNumber(cfg.opensAt),
      closesAt: cfg.closesAt ? toNumber(cfg.closesAt) : null,
      paused: cfg.paused === '1',
      ticketTtlMs: toNumber(cfg.ticketTtlMs),
      queueMode: cfg.queueMode === 'WhenBusy' ? 'WhenBusy' : 'Always',
      maxAdmissionsPerMinute: cfg.inflowPerMin ? toNumber(cfg.inflowPerMin) : null,
      prequeueMs: toNumber(cfg.prequeueMs),
      draw: commitment
        ? {
            commitment,
            state: (drawState ?? 'scheduled') as DrawState['state'],
            seed: drawState === 'done' ? (seed ?? undefined) : undefined,
          }
        : undefined,
      prequeued,
      proofOfWork: cfg.powDifficulty
        ? { difficulty: toNumber(cfg.powDifficulty), maxDifficulty: toNumber(cfg.powMaxDifficulty, toNumber(cfg.powDifficulty)) }
        : null,
      productName: cfg.product ?? '',
      price: toNumber(cfg.price),
      currency: cfg.currency ?? '',
      available,
      active,
      served,
      sold,
      issued: toNumber(stats.issued),
      lastQueueNumber: toNumber(stats.lastQn),
      admitted: toNumber(stats.admitted),
      skipped: toNumber(stats.skipped),
      soldOutTickets: toNumber(stats.soldout),
      expired: toNumber(stats.expired),
      cancelled: toNumber(stats.cancelled),
      purchased: toNumber(stats.purchased),
    };
  }

  async shopperTicket(dealId: string, shopperId: string): Promise<ShopperTicket | undefined> {
    const [state, jti, qn, token, deadline, orderId] = await this.redis.hmget(
      dealKeys(dealId).ticket(shopperId),
      'state',
      'jti',
      'qn',
      'token',
      'deadline',
      'orderId',
    );
    if (!state) return undefined;
    return {
      state: state as TicketState,
      jti: jti ?? '',
      queueNumber: toNumber(qn),
      token: token ?? undefined,
      deadline: deadline ? toNumber(deadline) : undefined,
      orderId: orderId ?? undefined,
    };
  }

  /** The admission audit trail in admission order: queue number, shopper and time. */
  async admissions(dealId: string): Promise<Admission[]> {
    const entries = await this.redis.lrange(dealKeys(dealId).admissions, 0, -1);
    return entries.map((entry) => {
      const first = entry.indexOf(':');
      const last = entry.lastIndexOf(':');
      return {
        queueNumber: Number(entry.slice(0, first)),
        shopperId: entry.slice(first + 1, last),
        admittedAt: Number(entry.slice(last + 1)),
      };
    });
  }

  /** How many admissions the audit trail holds (one read, for watching it grow). */
  admissionCount(dealId: string): Promise<number> {
    return this.redis.llen(dealKeys(dealId).admissions);
  }

  /** The shoppers holding checkout access, each with their checkout deadline (ms). */
  async activeShoppers(dealId: string): Promise<Array<{ shopperId: string; deadline: number }>> {
    const flat = await this.redis.zrange(dealKeys(dealId).active, '0', '-1', 'WITHSCORES');
    const active: Array<{ shopperId: string; deadline: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) active.push({ shopperId: flat[i] as string, deadline: Number(flat[i + 1]) });
    return active;
  }

  async dealIds(): Promise<string[]> {
    return this.redis.smembers(dealsIndexKey);
  }

  /** Removes every Redis key of a deal (a deleted QuickDeal). Postgres keeps its orders. */
  async removeDeal(dealId: string): Promise<void> {
    const keys = dealKeys(dealId);
    await this.redis.srem(dealsIndexKey, dealId);
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(
        cursor,
        'MATCH',
        `${keys.prefix.replace(/[{}*?[\]\\]/g, (c) => `\\${c}`)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (found.length > 0) await this.redis.unlink(...found);
    } while (cursor !== '0');
    await this.redis.publish(keys.events, 'deleted');
  }
}
