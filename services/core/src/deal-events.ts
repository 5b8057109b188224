import type { RedisClient } from './redis/connect.js';
import { dealForEventsChannel, eventsPattern } from './redis/keys.js';

/**
 * What a deal's channel announces (published by the Lua scripts and the deal store): a unit or a
 * slot was freed, the line moved, the settings changed, the last unit sold, the deal was deleted.
 */
export type DealEvent = 'freed' | 'changed' | 'config' | 'soldout' | 'deleted';

export interface DealEventsSubscription {
  unsubscribe(): Promise<void>;
}

/**
 * Calls `listener` with every event any deal publishes, until unsubscribed. `subscriber` is a
 * connection of its own: Redis takes it into subscriber mode.
 */
export async function subscribeToDealEvents(
  subscriber: RedisClient,
  listener: (dealId: string, event: DealEvent) => void,
): Promise<DealEventsSubscription> {
  const onMessage = (pattern: string, channel: string, event: string) => {
    if (pattern !== eventsPattern) return;
    const dealId = dealForEventsChannel(channel);
    if (dealId) listener(dealId, event as DealEvent);
  };
  subscriber.on('pmessage', onMessage);
  await subscriber.psubscribe(eventsPattern);
  return {
    async unsubscribe() {
      subscriber.off('pmessage', onMessage);
      await subscriber.punsubscribe(eventsPattern).catch(() => undefined);
    },
  };
}
