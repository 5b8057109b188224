export { createApp, type TicketingDeps, type TicketStatus } from './app.js';
export { ticketingConfigSchema } from './config.js';
export { pollAfterMs, queuePosition } from './queue-position.js';
export { RateLimits } from './rate-limits.js';
export { TicketQueue } from './ticket-queue.js';
