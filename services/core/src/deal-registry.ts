import type { Admin } from 'kafkajs';
import { sql, type Kysely } from 'kysely';
import { systemClock, type Clock } from './clock.js';
import type { Database } from './db/schema.js';
import { dealPhase, type DealPhase } from './deal-phase.js';
import { ticketsWaiting } from './deal-line.js';
import { newDrawSeed, seedCommitment } from './draw.js';
import { settingsFromSpec, type DealSettings, type QuickDealSpec } from './deal-spec.js';
import { describeTopic, ensureTopic, type TopicSettings, type TopicShape } from './kafka.js';
import type { DealStore } from './redis/deal-store.js';
import { topicForDeal } from './topics.js';

export interface AppliedDeal {
  dealId: string;
  topic: string;
  topicCreated: boolean;
  settings: DealSettings;
  /** The stock asked for was below what was already sold; the stock stays at `settings.stock`. */
  stockClamped: boolean;
  sold: number;
  /** Where the apply had to write (nothing, when the servers already held the spec). */
  written: { postgres: boolean; redis: boolean };
}

export interface DealStatus {
  dealId: string;
  topic: string;
  phase: DealPhase;
  stock: number;
  sold: number;
  remaining: number;
  waiting: number;
  active: number;
  cap: number;
  opensAt: number;
  closesAt: number | null;
  /** The pre-queue's draw: the seed's commitment, then the seed once drawn (none without a pre-queue). */
  draw?: { state: string; commitment: string; seed?: string };
}

/**
 * Applies a QuickDeal spec to everything that serves it: the deal's row in Postgres, its Kafka
 * topic, its settings in Redis. Applying the same spec again gives the same result; stock may
 * grow but never drops below what was sold. Both the operator and `quickdeal apply` call this.
 */
export class DealRegistry {
  private readonly clock: Clock;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      store: DealStore;
      admin: Admin;
      topicPrefix: string;
      topicSettings: TopicSettings;
      clock?: Clock;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  topicFor(dealId: string): string {
    return topicForDeal(dealId, this.deps.topicPrefix);
  }

  /** The deal's topic as the brokers report it (undefined: missing), beside the settings this registry creates topics with. */
  async topicShape(dealId: string): Promise<{ topic: string; shape: TopicShape | undefined; wanted: TopicSettings }> {
    const topic = this.topicFor(dealId);
    return { topic, shape: await describeTopic(this.deps.admin, topic), wanted: this.deps.topicSettings };
  }

  async apply(dealId: string, spec: QuickDealSpec): Promise<AppliedDeal> {
    const wanted = settingsFromSpec(dealId, spec);
    // A deal deleted earlier under this name moves aside (with its orders): the new one inherits nothing.
    await this.deps.db
      .updateTable('deals')
      .set({ id: sql<string>`id || '~' || floor(extract(epoch from retired_at) * 1000)::bigint` })
      .where('id', '=', dealId)
      .where('retired_at', 'is not', null)
      .execute();
    const values = {
      id: dealId,
      product_name: wanted.productName,
      price: wanted.price,
      currency: wanted.currency,
      stock: wanted.stock,
      opens_at: new Date(wanted.opensAt),
      closes_at: wanted.closesAt === null ? null : new Date(wanted.closesAt),
      max_active_shoppers: wanted.cap,
      checkout_window_ms: wanted.windowMs,
      ticket_ttl_ms: wanted.ticketTtlMs,
      paused: wanted.paused,
    };
    const current = await this.deps.db.selectFrom('deals').selectAll().where('id', '=', dealId).executeTakeFirst();
    const unchanged = current !== undefined && holdsValues(current, { ...values, stock: Math.max(values.stock, current.sold) });
    const row = unchanged
      ? current
      : await this.deps.db
          .insertInto('deals')
          .values(values)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              product_name: eb.ref('excluded.product_name'),
              price: eb.ref('excluded.price'),
              currency: eb.ref('excluded.currency'),
              stock: sql<number>`greatest(excluded.stock, deals.sold)`,
              opens_at: eb.ref('excluded.opens_at'),
              closes_at: eb.ref('excluded.closes_at'),
              max_active_shoppers: eb.ref('excluded.max_active_shoppers'),
              checkout_window_ms: eb.ref('excluded.checkout_window_ms'),
              ticket_ttl_ms: eb.ref('excluded.ticket_ttl_ms'),
              paused: eb.ref('excluded.paused'),
              updated_at: sql<Date>`now()`,
            })),
          )
          .returning(['stock', 'sold'])
          .executeTakeFirstOrThrow();
    const topic = this.topicFor(dealId);
    const topicCreated = await ensureTopic(this.deps.admin, topic, this.deps.topicSettings);
    const settings = { ...wanted, stock: row.stock };
    // A seed for the pre-queue's draw; Redis keeps the first one committed, so re-applying never changes it.
    const seed = newDrawSeed();
    const redisWritten = await this.deps.store.applyDealIfChanged(settings, row.sold, { seed, commitment: seedCommitment(seed) });
    return {
      dealId,
      topic,
      topicCreated,
      settings,
      stockClamped: row.stock > wanted.stock,
      sold: row.sold,
      written: { postgres: !unchanged, redis: redisWritten },
    };
  }

  /** Stops a deal: its Redis state goes (admissions stop), its topic too if asked; its row is retired, its orders stay in Postgres. */
  async remove(dealId: string, options: { deleteTopic: boolean }): Promise<void> {
    await this.deps.store.removeDeal(dealId);
    await this.deps.db
      .updateTable('deals')
      .set({ retired_at: sql<Date>`now()` })
      .where('id', '=', dealId)
      .where('retired_at', 'is', null)
      .execute();
    if (options.deleteTopic) {
      const topic = this.topicFor(dealId);
      if ((await this.deps.admin.listTopics()).includes(topic)) await this.deps.admin.deleteTopics({ topics: [topic] });
    }
  }

  async status(dealId: string): Promise<DealStatus | undefined> {
    const row = await this.deps.db
      .selectFrom('deals')
      .selectAll()
      .where('id', '=', dealId)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const snapshot = await this.deps.store.snapshot(dealId);
    const deal = { stock: row.stock, opensAt: row.opens_at.getTime(), closesAt: row.closes_at?.getTime() ?? null, paused: row.paused };
    return {
      dealId,
      topic: this.topicFor(dealId),
      phase: dealPhase(deal, row.sold, this.clock.now()),
      stock: row.stock,
      sold: row.sold,
      remaining: row.stock - row.sold,
      waiting: ticketsWaiting(snapshot),
      active: snapshot.active,
      cap: row.max_active_shoppers,
      opensAt: deal.opensAt,
      closesAt: deal.closesAt,
      ...(snapshot.draw
        ? {
            draw: {
              state: snapshot.draw.state,
              commitment: snapshot.draw.commitment,
              ...(snapshot.draw.seed ? { seed: snapshot.draw.seed } : {}),
            },
          }
        : {}),
    };
  }

  async list(): Promise<DealStatus[]> {
    const ids = await this.deps.db.selectFrom('deals').select('id').where('retired_at', 'is', null).orderBy('id').execute();
    const statuses = await Promise.all(ids.map(({ id }) => this.status(id)));
    return statuses.filter((s): s is DealStatus => s !== undefined);
  }
}

/** Whether a deal's row already holds every value an upsert would write (timestamps compared by instant). */
function holdsValues(row: Record<string, unknown>, values: Record<string, unknown>): boolean {
  const comparable = (value: unknown) => (value instanceof Date ? value.getTime() : value === null ? null : String(value));
  return row.retired_at === null && Object.entries(values).every(([column, value]) => comparable(row[column]) === comparable(value));
}
