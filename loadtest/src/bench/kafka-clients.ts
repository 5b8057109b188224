/**
 * kafkajs against @platformatic/kafka on the ticket path's own work: ticket-sized messages to one
 * single-partition topic, idempotent, acks=all, one batch in flight at a time (as ticketing's
 * ticket issuer sends them), the two clients interleaved round by round: kafkajs as admission and
 * ticketing used it, @platformatic/kafka as ticketing's producer now is (docs/scaling.md).
 */
import { Kafka, logLevel } from 'kafkajs';
import { platformaticProducer } from '@quickdeal/ticketing';
import { median, n } from './measure.js';

export interface KafkaClientResult {
  client: string;
  /** Messages acknowledged per second, per round. */
  runs: number[];
  messagesPerSecond: number;
  /** CPU time of this process per message (µs), median over the rounds. */
  cpuUsPerMessage: number;
  batchP50Ms: number;
  batchP99Ms: number;
}

interface ClientUnderTest {
  name: string;
  send(messages: string[]): Promise<void>;
  close(): Promise<void>;
}

async function kafkajsClient(brokers: string[], topic: string): Promise<ClientUnderTest> {
  const producer = new Kafka({ brokers, clientId: 'qd-bench-kafkajs', logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return {
    name: 'kafkajs 2.2.4',
    send: async (messages) => {
      await producer.send({ topic, acks: -1, messages: messages.map((value) => ({ value })) });
    },
    close: () => producer.disconnect(),
  };
}

/** Ticketing's own producer (idempotent, acks=all, no topic creation, its retries). */
async function platformaticClient(brokers: string[], topic: string): Promise<ClientUnderTest> {
  const producer = platformaticProducer({ brokers, clientId: 'qd-bench-platformatic' });
  return {
    name: '@platformatic/kafka 1.x',
    send: async (messages) => {
      await producer.send({ messages: messages.map((value) => ({ topic, partition: 0, value: Buffer.from(value) })) });
    },
    close: () => producer.close(),
  };
}

const ticketMessage = (i: number) =>
  JSON.stringify({
    v: 1,
    sub: `bench-shopper-${i}`,
    jti: `bench-${i}-${Math.random().toString(36).slice(2)}`,
    iat: 1_800_000_000,
    exp: 1_800_086_400,
  });

async function produceRound(client: ClientUnderTest, messages: number, batchSize: number) {
  const batchMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let sent = 0; sent < messages; sent += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, messages - sent) }, (_, i) => ticketMessage(sent + i));
    const t0 = performance.now();
    await client.send(batch);
    batchMs.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  batchMs.sort((a, b) => a - b);
  return {
    perSecond: messages / seconds,
    cpuUsPerMessage: (cpu.user + cpu.system) / messages,
    p50: batchMs[Math.floor(batchMs.length * 0.5)] ?? NaN,
    p99: batchMs[Math.floor(batchMs.length * 0.99)] ?? NaN,
  };
}

export async function compareKafkaClients(
  brokers: string[],
  topicSettings: { replicationFactor: number; minInsyncReplicas: number },
  options: { messages: number; batchSize: number; repeat: number },
  log: (line: string) => void,
): Promise<KafkaClientResult[]> {
  const topic = `qd-bench-kafka-clients-${Date.now().toString(36)}`;
  const admin = new Kafka({ brokers, clientId: 'qd-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: 1,
        replicationFactor: topicSettings.replicationFactor,
        configEntries: [{ name: 'min.insync.replicas', value: String(topicSettings.minInsyncReplicas) }],
      },
    ],
  });
  const clients = [await kafkajsClient(brokers, topic), await platformaticClient(brokers, topic)];
  const rounds = new Map(clients.map((client) => [client.name, [] as Awaited<ReturnType<typeof produceRound>>[]]));
  try {
    for (const client of clients) await produceRound(client, Math.min(2_000, options.messages), options.batchSize); // warm-up
    for (let round = 1; round <= options.repeat; round++) {
      for (const client of clients) {
        const result = await produceRound(client, options.messages, options.batchSize);
        rounds.get(client.name)?.push(result);
        log(
          `kafka clients, round ${round}/${options.repeat}: ${client.name}: ${n(result.perSecond)} messages/s, ${result.cpuUsPerMessage.toFixed(1)} µs CPU per message`,
        );
      }
    }
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
  return clients.map((client) => {
    const all = rounds.get(client.name) ?? [];
    return {
      client: client.name,
      runs: all.map((r) => r.perSecond),
      messagesPerSecond: median(all.map((r) => r.perSecond)),
      cpuUsPerMessage: median(all.map((r) => r.cpuUsPerMessage)),
      batchP50Ms: median(all.map((r) => r.p50)),
      batchP99Ms: median(all.map((r) => r.p99)),
    };
  });
}
