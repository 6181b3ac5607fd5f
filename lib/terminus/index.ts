export { RateLimitHealthIndicator, type RateLimitStoreMode } from './rate-limit.health-indicator.js';
