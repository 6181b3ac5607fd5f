export { RateLimitOpenTelemetryModule, type RateLimitOpenTelemetryOptions } from './rate-limit-open-telemetry.module.js';
