import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { z } from 'zod';
import type { Logger } from './logger.js';
import type { QueuedTicket } from './deal-types.js';

/** A Kafka client; `retries` (8: about 25 s against a broker that is down) bounds how long a call keeps trying. */
export function createKafka(options: { brokers: string[]; clientId: string; logger?: Logger; retries?: number }): Kafka {
  const config: KafkaConfig = {
    brokers: options.brokers,
    clientId: options.clientId,
    retry: { initialRetryTime: 100, retries: options.retries ?? 8 },
    logLevel: logLevel.WARN,
  };
  const log = options.logger;
  if (log) {
    config.logCreator =
      () =>
      ({ namespace, level, log: entry }) => {
        const { message, ...extra } = entry;
        const fields = { namespace, ...extra };
        if (level <= logLevel.ERROR) log.error(fields, message);
        else if (level === logLevel.WARN) log.warn(fields, message);
      };
  }
  return new Kafka(config);
}

/** What goes into a deal's topic for one ticket. Its offset + 1 is the queue number. */
export const ticketMessageSchema = z.object({
  v: z.literal(1),
  sub: z.string().min(1).max(128),
  jti: z.string().min(1).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type TicketMessage = z.infer<typeof ticketMessageSchema>;

export function encodeTicketMessage(message: TicketMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** Reads a message at `offset` of a deal's topic; anything that does not parse becomes an invalid ticket to skip. */
export function decodeTicketMessage(offset: string, value: Buffer | null): QueuedTicket {
  const queueNumber = Number(offset) + 1;
  try {
    const parsed = ticketMessageSchema.safeParse(JSON.parse(value?.toString('utf8') ?? ''));
    if (parsed.success) {
      return { queueNumber, shopperId: parsed.data.sub, jti: parsed.data.jti, expiresAtMs: parsed.data.exp * 1000, valid: true };
    }
  } catch {
    // falls through to an invalid ticket
  }
  return { queueNumber, shopperId: '', jti: '', expiresAtMs: 0, valid: false };
}

export interface TopicSettings {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** Creates a deal's single-partition topic when missing; never changes an existing one. Returns whether it created it. */
export async function ensureTopic(admin: Admin, topic: string, settings: TopicSettings): Promise<boolean> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return false;
  try {
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: settings.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) }],
        },
      ],
    });
  } catch (error) {
    // The topic was created, but the broker kafkajs asks for its leaders had not learnt of it yet
    // (KRaft brokers learn of a new topic a moment after the controller): kafkajs gives up on that
    // answer instead of asking again, so wait for the leader here.
    if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
      await waitForLeader(admin, topic, error);
      return true;
    }
    if ((await admin.listTopics()).includes(topic)) return false;
    throw error;
  }
}

/** Resolves once the topic's partitions have leaders; rejects with `cause` when they have none within `timeoutMs`. */
async function waitForLeader(admin: Pick<Admin, 'fetchTopicMetadata'>, topic: string, cause: unknown, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const partitions = await admin
      .fetchTopicMetadata({ topics: [topic] })
      .then(({ topics }) => topics.find((found) => found.name === topic)?.partitions ?? [])
      .catch(() => []);
    if (partitions.length > 0 && partitions.every((partition) => partition.leader >= 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw cause;
}

/** What a topic is made of, as the brokers report it. */
export interface TopicShape {
  partitions: number;
  /** The fewest replicas any of its partitions has. */
  replicationFactor: number;
}

/** The topic's partition count and replication factor; undefined when it does not exist. */
export async function describeTopic(admin: Admin, topic: string): Promise<TopicShape | undefined> {
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = topics.find((found) => found.name === topic)?.partitions ?? [];
  if (partitions.length === 0) return undefined;
  return { partitions: partitions.length, replicationFactor: Math.min(...partitions.map((partition) => partition.replicas.length)) };
}
