// What @quickdeal/core offers. Redis key names and the Lua scripts stay inside: go through DealStore.
export { systemClock, type Clock } from './clock.js';
export { ConfigError, commonConfigSchema, flag, parseConfig } from './config.js';
export { DealCache } from './deal-cache.js';
export { subscribeToDealEvents, type DealEvent, type DealEventsSubscription } from './deal-events.js';
export { ticketsWaiting } from './deal-line.js';
export { dealPhase, type DealPhase } from './deal-phase.js';
export { DealRegistry, type AppliedDeal, type DealStatus } from './deal-registry.js';
export {
  dealIdSchema,
  describeIssues,
  quickDealSpecSchema,
  settingsFromSpec,
  specLimits,
  type DealSettings,
  type QuickDealSpec,
  type QuickDealSpecInput,
  type QueueMode,
} from './deal-spec.js';
export type {
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
} from './deal-types.js';
export { drawKey, drawOrder, newDrawSeed, seedCommitment, verifyDraw, type DrawCheck } from './draw.js';
export { formatDuration, isDuration, parseDuration } from './duration.js';
export { AppError, errors } from './errors.js';
export {
  createKafka,
  decodeTicketMessage,
  describeTopic,
  encodeTicketMessage,
  ensureTopic,
  type TicketMessage,
  type TopicSettings,
  type TopicShape,
} from './kafka.js';
export { createLogger, type Logger } from './logger.js';
export { checkoutsExpiredCounter, createRegistry, createServiceMetrics, type ServiceMetrics } from './metrics.js';
export { isPaying, isPending, ticketStanding, type TicketStanding, type TicketState } from './ticket-state.js';
export {
  TicketKeyring,
  TicketSigner,
  TicketVerifier,
  loadKeyring,
  loadServiceKeyring,
  newTicketId,
  type TicketClaims,
  type VerifiedTicket,
} from './tickets.js';
export { dealForTopic, dealIdPattern, defaultTopicPrefix, topicForDeal } from './topics.js';
export { connectDatabase, pgConstraint, pgErrorCode, pgErrorCodes } from './db/connect.js';
export { migrateToLatest, pendingMigrations } from './db/migrations.js';
export type { Database, DealRow, OrderRow, PaymentRow, PaymentStatus } from './db/schema.js';
export { bearerTicketOf, headerOf, installCommon, installProbes, jsonBodyOf, shopperIdOf, type AppEnv } from './http/app-kit.js';
export { assertTicketBelongs, ownTicket, ownTicketOf, rememberedOwnTicket } from './http/own-ticket.js';
export {
  installShopperRoute,
  nodeRoutes,
  type JsonAnswer,
  type NodeRoutes,
  type ShopperAsk,
  type ShopperRoute,
} from './http/node-routes.js';
export type { HeaderReader } from './http/request-headers.js';
export { DependencyUnavailableError, outageOf, type Dependency, type Outage } from './http/dependency-outage.js';
export {
  headerIdentity,
  sessionTokenHeader,
  shopperIdentityConfigShape,
  shopperIdentityFromConfig,
  shopperIdPattern,
  tokenIdentity,
  type ShopperIdentity,
  type ShopperIdentityMode,
  type TokenIdentityOptions,
} from './http/shopper-identity.js';
export {
  createServiceServer,
  httpTimeouts,
  runService,
  serviceMain,
  type HttpTimeouts,
  type BuiltService,
  type ComposedService,
  type RunningService,
  type ServiceOverrides,
  type ServingState,
} from './http/serve.js';
export {
  connectRedis,
  parseHostPorts,
  primaries,
  redisAnswers,
  redisClientOptions,
  redisConfigShape,
  redisTopology,
  redisTopologyFromEnv,
  scanKeys,
  type HostPort,
  type RedisClient,
  type RedisRole,
  type RedisSettings,
  type RedisTopology,
} from './redis/connect.js';
export { DealStore, type FinalTicket } from './redis/deal-store.js';
