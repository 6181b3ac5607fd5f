/** What one sample instance reads from its environment. */
export interface SampleConfig {
  instanceName: string;
  host: string;
  port: number;
  /** `'memory'` keeps budgets in this process only: instances then no longer share them. */
  store: 'redis' | 'memory';
  redisUrl: string;
  /** Base URLs of every instance the dashboard fires at (default: the one serving it). */
  dashboardInstances: string[];
}

export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port (got ${env.PORT})`);
  const store = env.RATE_LIMIT_STORE ?? 'redis';
  if (store !== 'redis' && store !== 'memory') throw new Error(`RATE_LIMIT_STORE must be 'redis' or 'memory' (got ${store})`);
  return {
    instanceName: env.INSTANCE_NAME ?? `sample-${port}`,
    host: env.HOST ?? '127.0.0.1',
    port,
    store,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    dashboardInstances: (env.DASHBOARD_INSTANCES ?? '').split(',').map((url) => url.trim()).filter(Boolean),
  };
}
