import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Kysely } from 'kysely';
import { decodeTicketMessage, type Database, type DealStore } from '@quickdeal/core';

/** One message of the deal's topic: the queue as Kafka holds it (offset + 1 = queue number). */
export interface LogEntry {
  queueNumber: number;
  shopperId: string;
  jti: string;
  expiresAtMs: number;
  valid: boolean;
}

/** A shopper's ticket record in Redis, reduced to what the checks need. */
export interface TicketRecord {
  state: string;
  jti: string;
  queueNumber: number;
  deadline: number | undefined;
}

/** What the deal's state in Redis says, reduced to what the checks need. */
export interface DealCounters {
  stock: number;
  sold: number;
  available: number;
  active: number;
  served: number;
  lastQueueNumber: number;
  admitted: number;
  purchased: number;
  cancelled: number;
  expired: number;
  skipped: number;
  soldOutTickets: number;
}

/** Everything read back after a run: Postgres (what was sold), Redis (the line and checkouts), Kafka (the queue). */
export interface Truth {
  readAt: number;
  postgres: { stock: number; sold: number; orders: Array<{ shopperId: string; queueNumber: number; createdAt: number }> };
  redis: DealCounters;
  admissions: Array<{ queueNumber: number; shopperId: string; admittedAt: number }>;
  activeDeadlines: Array<{ shopperId: string; deadline: number }>;
  log: LogEntry[];
  records: Map<string, TicketRecord>;
}

export interface TruthSources {
  dealId: string;
  topic: string;
  store: DealStore;
  db: Kysely<Database>;
  kafka: Kafka;
}

/** Reads the truth of a deal; `shopperIds` are the shoppers whose Redis records to read (besides everyone in the log). */
export async function readTruth(sources: TruthSources, shopperIds: Iterable<string>): Promise<Truth> {
  const { dealId, store, db } = sources;
  const log = await readTopic(sources.kafka, sources.topic);
  const readAt = Date.now();
  const deal = await db.selectFrom('deals').select(['stock', 'sold']).where('id', '=', dealId).executeTakeFirst();
  if (!deal) throw new Error(`deal ${dealId} is not in Postgres`);
  const orders = await db.selectFrom('orders').select(['shopper_id', 'queue_number', 'created_at']).where('deal_id', '=', dealId).execute();
  const snapshot = await store.snapshot(dealId);
  const admissions = await store.admissions(dealId);
  const activeDeadlines: Truth['activeDeadlines'] = await store.activeShoppers(dealId);

  const wanted = new Set(shopperIds);
  for (const entry of log) if (entry.valid) wanted.add(entry.shopperId);
  const records = new Map<string, TicketRecord>();
  const ids = [...wanted];
  for (let i = 0; i < ids.length; i += 2_000) {
    const chunk = ids.slice(i, i + 2_000);
    const found = await Promise.all(chunk.map((id) => store.shopperTicket(dealId, id)));
    chunk.forEach((id, j) => {
      const record = found[j];
      if (record) records.set(id, { state: record.state, jti: record.jti, queueNumber: record.queueNumber, deadline: record.deadline });
    });
  }
  return {
    readAt,
    postgres: {
      stock: deal.stock,
      sold: deal.sold,
      orders: orders.map((o) => ({ shopperId: o.shopper_id, queueNumber: o.queue_number, createdAt: o.created_at.getTime() })),
    },
    redis: {
      stock: snapshot.stock,
      sold: snapshot.sold,
      available: snapshot.available,
      active: snapshot.active,
      served: snapshot.served,
      lastQueueNumber: snapshot.lastQueueNumber,
      admitted: snapshot.admitted,
      purchased: snapshot.purchased,
      cancelled: snapshot.cancelled,
      expired: snapshot.expired,
      skipped: snapshot.skipped,
      soldOutTickets: snapshot.soldOutTickets,
    },
    admissions,
    activeDeadlines,
    log,
    records,
  };
}

/** Every message of a single-partition topic, with a throwaway consumer group (removed afterwards). */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 120_000): Promise<LogEntry[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `quickdeal-loadtest-reader-${randomBytes(4).toString('hex')}`;
  try {
    const high = Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)?.high ?? 0);
    if (high === 0) return [];
    const entries = new Map<number, LogEntry>();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, maxBytes: 64 * 1024 * 1024, maxBytesPerPartition: 16 * 1024 * 1024 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${entries.size} of ${high} messages of ${topic} in ${timeoutMs / 1000}s`)),
          timeoutMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) {
                if (Number(message.offset) < high) entries.set(Number(message.offset), decodeTicketMessage(message.offset, message.value));
              }
              if (Number(batch.lastOffset()) + 1 >= high) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return [...entries.values()].sort((a, b) => a.queueNumber - b.queueNumber);
  } finally {
    await admin.disconnect();
  }
}
