export * from './clock.js';
export * from './config.js';
export * from './deal-cache.js';
export * from './deal-phase.js';
export * from './deal-registry.js';
export * from './deal-spec.js';
export * from './duration.js';
export * from './errors.js';
export * from './kafka.js';
export * from './logger.js';
export * from './metrics.js';
export * from './tickets.js';
export * from './topics.js';
export * from './db/connect.js';
export * from './db/migrations.js';
export * from './db/schema.js';
export * from './http/app-kit.js';
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
export * from './http/serve.js';
export * from './redis/deal-store.js';
export * from './redis/keys.js';
export * from './redis/connect.js';
