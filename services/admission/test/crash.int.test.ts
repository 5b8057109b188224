import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '@quickdeal/dev/profiles';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

/** The admission service as its own process, reading this room's deal topics. */
function startAdmissionProcess(): ChildProcess {
  const stack = endpoints('test');
  return spawn(process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', main], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: stack.redisUrl,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: room.topicPrefix,
      ADMISSION_GROUP_ID: room.groupId,
      ADMISSION_BATCH_SIZE: '25',
      TOPIC_REFRESH_MS: '300',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describe('a crashed admission consumer', () => {
  it('is killed in the middle of admitting a backlog, restarts, and admits nobody twice and nobody out of order', async () => {
    const created = await room.createDeal({ stock: 5_000, paused: true, admission: { maxActiveShoppers: 2_000, checkoutWindow: '5m' } });
    const { dealId } = created;
    const answers = (
      await Promise.all(
        Array.from({ length: 20 }, (_, b) =>
          Promise.all(Array.from({ length: 100 }, (_, i) => room.takeTicket(dealId, `crash${b * 100 + i}`))),
        ),
      )
    ).flat();
    expect(answers.every((a) => a.status === 201)).toBe(true);

    const first = startAdmissionProcess();
    await room.registry.apply(dealId, { ...created.spec, paused: false });
    // kill -9 as soon as it has admitted part of the backlog
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served > 0,
      30_000,
      5,
    );
    first.kill('SIGKILL');
    await once(first, 'exit');
    const atCrash = await room.store.snapshot(dealId);
    expect(atCrash.served).toBeLessThan(2_000);

    const second = startAdmissionProcess();
    try {
      const done = await room.waitFor(
        () => room.store.snapshot(dealId),
        (d) => d.served === 2_000,
        60_000,
      );
      expect(done.active).toBe(2_000);
      expect(done.admitted).toBe(2_000);
      const admitted = await room.store.admissions(dealId);
      expect(admitted.map((a) => a.queueNumber)).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
      expect(new Set(admitted.map((a) => a.shopperId)).size).toBe(2_000);
      const committed = await room.admin.fetchOffsets({ groupId: room.groupId, topics: [room.registry.topicFor(dealId)] });
      expect(committed[0]?.partitions[0]?.offset).toBe('2000');
    } finally {
      second.kill('SIGTERM');
      await once(second, 'exit');
    }
  });

  it('shuts down gracefully on SIGTERM with its admissions committed', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    for (let i = 0; i < 3; i++) await room.takeTicket(dealId, `graceful${i}`);
    const child = startAdmissionProcess();
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 3,
      30_000,
    );
    await room.waitFor(
      () => room.admin.fetchOffsets({ groupId: room.groupId, topics: [room.registry.topicFor(dealId)] }),
      (offsets) => offsets[0]?.partitions[0]?.offset === '3',
    );
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
