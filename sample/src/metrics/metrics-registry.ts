/** The instance's prom-client registry: the rate limiter's metrics and whatever else the app measures. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
