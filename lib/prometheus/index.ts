export { RateLimitPrometheusModule, type RateLimitPrometheusOptions } from './rate-limit-prometheus.module.js';
