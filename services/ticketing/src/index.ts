export { createApp, type TicketingDeps, type TicketStatus } from './app.js';
export { ticketingConfigSchema } from './config.js';
export { Door } from './door.js';
export { pollAfterMs, queuePosition } from './queue-position.js';
export { RateLimits } from './rate-limits.js';
export { TicketProducer, type BatchSender } from './ticket-producer.js';
export { TicketQueue } from './ticket-queue.js';
