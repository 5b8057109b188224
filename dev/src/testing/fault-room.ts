/**
 * A waiting room on the `fault` profile's Redis and Postgres, for payment tests that stop and
 * restart them: it holds the fault lock (so no other suite's sale runs on them meanwhile) until
 * `close`, which brings both back first.
 */
import { endpoints } from '../profiles.js';
import { ensurePostgres } from '../servers/postgres.js';
import { ensureRedis } from '../servers/redis.js';
import { holdFaultServers } from './fault-lock.js';
import { startWaitingRoom, type WaitingRoom, type WaitingRoomOptions } from './waiting-room.js';

export interface FaultRoom {
  room: WaitingRoom;
  close: () => Promise<void>;
}

export async function startFaultRoom(options: WaitingRoomOptions): Promise<FaultRoom> {
  const release = await holdFaultServers();
  const bringBack = () => Promise.all([ensureRedis('fault'), ensurePostgres('fault')]);
  await bringBack();
  const fault = endpoints('fault');
  const room = await startWaitingRoom({
    redisUrl: fault.redisUrl,
    postgresUrl: fault.postgresUrl,
    providerTimeoutMs: 500,
    sweepIntervalMs: 100,
    backoffMs: 200,
    ...options,
  });
  return {
    room,
    close: async () => {
      await bringBack().catch(() => undefined);
      await room.close();
      release();
    },
  };
}
