import type { RedisClient } from './connect.js';
import { scanKeys } from './connect.js';
import type { DealSettings } from '../deal-spec.js';
import type {
  Admission,
  AdmitResult,
  AskLimit,
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
  qdReserveTickets: lua.reserveTicketsLua,
  qdFinalizeTickets: lua.finalizeTicketsLua,
  qdAbortTickets: lua.abortTicketsLua,
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

const noAskLimit: AskLimit = { asks: 0, windowMs: 60_000 };

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

/** A produced ticket as its shopper's record keeps it. */
export interface FinalTicket {
  jti: string;
  queueNumber: number;
  token: string;
  expiresAtMs: number;
}

function reserveResultOf([outcome, a, b]: string[]): ReserveResult {
  switch (outcome) {
    case 'existing':
      return { outcome, token: a as string, queueNumber: toNumber(b) };
    case 'not_open':
      return { outcome, opensAt: toNumber(a) };
    case 'closed':
      return { outcome, closesAt: toNumber(a) };
    case 'prequeued':
      return { outcome, token: a as string };
    case 'rate_limited':
      return { outcome, retryInMs: toNumber(a) };
    default:
      return { outcome: outcome as 'reserved' | 'pending' | 'purchased' | 'sold_out' | 'unknown_deal' | 'drawing' };
  }
}

/**
 * Every change to a deal's state in Redis goes through here, and each is one Lua script
 * (see lua.ts), so concurrent services can never double-count a unit or a slot.
 */
export interface DealStoreOptions {
  /**
   * Replicas that must confirm a write Redis could otherwise lose in a failover (Redis WAIT), and
   * for how long to wait. Only the ticket record waits: see docs/scaling.md for why the others need not.
   */
  replicaWait?: { replicas: number; timeoutMs: number; onShortfall: (write: string) => void };
}

export class DealStore {
  constructor(
    readonly redis: RedisClient,
    private readonly options: DealStoreOptions = {},
  ) {
    for (const [name, source] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { lua: source });
    }
  }

  private run(name: ScriptName, dealId: string, extraKeys: string[], args: (string | number)[]): Promise<unknown> {
    return this.call(name, [...fixedKeys(dealKeys(dealId)), ...extraKeys], args);
  }

  private call(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const script = (this.redis as unknown as Record<ScriptName, ScriptCall>)[name].bind(this.redis);
    return script(keys.length, ...keys, ...args);
  }

  /** Times in the scripts are Redis's own (`TIME`), so replicas with skewed clocks agree on deadlines and leases. */
  async reserveTicket(dealId: string, shopperId: string, jti: string, askLimit?: AskLimit): Promise<ReserveResult> {
    return (await this.reserveTickets(dealId, [{ shopperId, jti }], askLimit))[0] as ReserveResult;
  }

  /**
   * Reserves a batch of one deal's ticket requests in one script call: one result per request, in
   * order. Each request counts against its shopper's `askLimit` in the same call.
   */
  async reserveTickets(
    dealId: string,
    requests: ReadonlyArray<{ shopperId: string; jti: string }>,
    askLimit: AskLimit = noAskLimit,
  ): Promise<ReserveResult[]> {
    const keys = dealKeys(dealId);
    const args: (string | number)[] = [pendingTicketTtlMs, askLimit.asks, askLimit.windowMs];
    const shopperKeys: string[] = [];
    for (const request of requests) {
      args.push(request.jti);
      shopperKeys.push(keys.ticket(request.shopperId), keys.asks(request.shopperId));
    }
    const results = (await this.run('qdReserveTickets', dealId, shopperKeys, args)) as string[][];
    return results.map(reserveResultOf);
  }

  async finalizeTicket(dealId: string, shopperId: string, ticket: FinalTicket, ttlMs: number): Promise<boolean> {
    return (await this.finalizeTickets(dealId, [{ shopperId, ticket, ttlMs }]))[0] === true;
  }

  /** Records a batch of one deal's produced tickets in one script call: whether each was recorded, in order. */
  async finalizeTickets(
    dealId: string,
    tickets: ReadonlyArray<{ shopperId: string; ticket: FinalTicket; ttlMs: number }>,
  ): Promise<boolean[]> {
    const args: (string | number)[] = [];
    for (const { ticket, ttlMs } of tickets)
      args.push(ticket.jti, ticket.queueNumber, ticket.token, ticket.expiresAtMs, Math.max(1, Math.round(ttlMs)));
    const dealKeyNames = dealKeys(dealId);
    const keys = [...fixedKeys(dealKeyNames), ...tickets.map((t) => dealKeyNames.ticket(t.shopperId))];
    const results = (await this.replicated('ticket', 'qdFinalizeTickets', keys, args)) as number[];
    return results.map((recorded) => recorded === 1);
  }

  /**
   * Runs a script and, when replicas must confirm it, WAITs on the same connection (a pipeline is
   * sent to the node that owns the keys' slot, on a cluster too) before answering.
   */
  private async replicated(write: string, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const wait = this.options.replicaWait;
    if (!wait || wait.replicas === 0) return this.call(name, keys, args);
    const pipeline = this.redis.pipeline() as unknown as Record<ScriptName, (...a: (string | number)[]) => unknown> & {
      wait(replicas: number, timeoutMs: number): unknown;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    pipeline[name](keys.length, ...keys, ...args);
    pipeline.wait(wait.replicas, wait.timeoutMs);
    const [[scriptError, result] = [null, undefined], [waitError, confirmed] = [null, 0]] = (await pipeline.exec()) ?? [];
    if (scriptError) throw scriptError;
    if (waitError || Number(confirmed) < wait.replicas) wait.onShortfall(write);
    return result;
  }

  async abortTicket(dealId: string, shopperId: string, jti: string): Promise<void> {
    await this.abortTickets(dealId, [{ shopperId, jti }]);
  }

  /** Undoes reservations whose tickets could not be queued, in one script call. */
  async abortTickets(dealId: string, requests: ReadonlyArray<{ shopperId: string; jti: string }>): Promise<void> {
    const keys = dealKeys(dealId);
    await this.run(
      'qdAbortTickets',
      dealId,
      requests.map((request) => keys.ticket(request.shopperId)),
      requests.map((request) => request.jti),
    );
  }

  /** `acceptGap` admits from this batch on even if Redis lost the admissions before it (their messages are gone from the log). */
  async admitBatch(dealId: string, tickets: QueuedTicket[], { acceptGap = false } = {}): Promise<AdmitResult> {
    return this.admit('qdAdmitBatch', dealId, tickets, acceptGap);
  }

  /**
   * A WhenBusy deal's fast path: admits a just-finalized ticket at once when it heads the line.
   * 'queued' when it stays in line for the consumer (Always mode, someone before it not yet
   * processed), 'processed' when the consumer dealt with it first.
   */
  async admitAtOnce(dealId: string, ticket: QueuedTicket): Promise<AdmitResult | 'queued' | 'processed'> {
    const result = await this.admit('qdAdmitAtOnce', dealId, [ticket], false);
    const outcome = result.blockedBy as string;
    return outcome === 'queued' || outcome === 'processed' ? outcome : result;
  }

  private async admit(
    script: 'qdAdmitBatch' | 'qdAdmitAtOnce',
    dealId: string,
    tickets: QueuedTicket[],
    acceptGap: boolean,
  ): Promise<AdmitResult> {
    const keys = dealKeys(dealId);
    const args: (string | number)[] = [tickets.length];
    for (const t of tickets) args.push(t.queueNumber, t.shopperId, t.jti, t.expiresAtMs, t.valid ? 1 : 0);
    args.push(acceptGap ? 1 : 0);
    const ticketKeys = tickets.map((t) => keys.ticket(t.valid ? t.shopperId : `invalid:${t.queueNumber}`));
    const [processed, blockedBy, admitted, invalid, expired, soldOut, duplicate, checkoutsExpired, served, retryInMs] = (await this.run(
      script,
      dealId,
      ticketKeys,
      args,
    )) as [number, string, number, number, number, number, number, number, number, number];
    const counts = { admitted, invalid, expired, soldOut, duplicate, checkoutsExpired, served, retryInMs };
    if (blockedBy === 'rewind') return { processed: 0, blockedBy: undefined, rewindTo: served, ...counts };
    return { processed, blockedBy: (blockedBy || undefined) as BlockReason | undefined, ...counts };
  }

  /** The last queue number admission processed, as Redis holds it; undefined for a deal Redis does not know. */
  async servedUpTo(dealId: string): Promise<number | undefined> {
    const served = await this.redis.get(dealKeys(dealId).served);
    return served === null ? undefined : toNumber(served);
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
  async prequeueTicket(dealId: string, shopperId: string, jti: string, token: string, askLimit = noAskLimit): Promise<PrequeueResult> {
    const keys = dealKeys(dealId);
    const [outcome, value] = (await this.run(
      'qdPrequeueTicket',
      dealId,
      [keys.ticket(shopperId), keys.asks(shopperId)],
      [jti, token, shopperId, askLimit.asks, askLimit.windowMs],
    )) as [string, string | undefined];
    if (outcome === 'existing') return { outcome, token: value ?? '' };
    if (outcome === 'not_prequeue') return { outcome, opensAt: toNumber(value) };
    if (outcome === 'rate_limited') return { outcome, retryInMs: toNumber(value) };
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

  /**
   * Applies the settings only when Redis lacks them (first apply, a different spec, Redis lost its
   * data, or its sold count is behind Postgres): a resync writes and publishes nothing. True when it applied.
   */
  async applyDealIfChanged(deal: DealSettings, soldInPostgres: number, drawSeed?: { seed: string; commitment: string }): Promise<boolean> {
    const keys = dealKeys(deal.id);
    const settings = JSON.stringify(deal);
    const [applied, sold] = await this.redis.mget(keys.applied, keys.sold);
    if (applied === settings && Number(sold ?? -1) >= soldInPostgres) return false;
    await this.applyDeal(deal, soldInPostgres, drawSeed);
    await this.redis.set(keys.applied, settings);
    return true;
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
    // Every key of the deal shares its hash tag, so one UNLINK per batch stays on one slot.
    const found = await scanKeys(this.redis, `${keys.prefix.replace(/[{}*?[\]\\]/g, (c) => `\\${c}`)}*`);
    for (let i = 0; i < found.length; i += 1000) await this.redis.unlink(...found.slice(i, i + 1000));
    await this.redis.publish(keys.events, 'deleted');
  }
}
