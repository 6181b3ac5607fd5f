/** What one sample instance reads from its environment. */
export interface SampleConfig {
  instanceName: string;
  host: string;
  port: number;
  /** `'memory'` keeps budgets in this process only: instances then no longer share them. */
  store: 'redis' | 'memory';
  redisUrl: string;
  /** Base URLs of every instance as the dashboard reaches them (default: the one serving it). */
  dashboardInstances: string[];
  /** `'nginx'`: a load balancer spreads the dashboard's requests; `'page'`: the page spreads them itself. */
  balancer: 'nginx' | 'page';
  /** Where the naive-vs-atomic burst is fired from this instance: the balancer, or every instance. */
  raceTargets: string[];
  /** PID of the demo's own redis-server, which the dashboard may pause (SIGSTOP) and resume. */
  redisPid: number | undefined;
  /** Express's `trust proxy` (e.g. `'loopback'` behind nginx), so that the client IP is the proxy's `X-Forwarded-For`. */
  trustProxy: string | undefined;
}

export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export function readSampleConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port (got ${env.PORT})`);
  const store = env.RATE_LIMIT_STORE ?? 'redis';
  if (store !== 'redis' && store !== 'memory') throw new Error(`RATE_LIMIT_STORE must be 'redis' or 'memory' (got ${store})`);
  const balancer = env.DEMO_BALANCER ?? 'page';
  if (balancer !== 'nginx' && balancer !== 'page') throw new Error(`DEMO_BALANCER must be 'nginx' or 'page' (got ${balancer})`);
  const redisPid = env.DEMO_REDIS_PID === undefined ? undefined : Number(env.DEMO_REDIS_PID);
  if (redisPid !== undefined && !(Number.isInteger(redisPid) && redisPid > 0)) throw new Error(`DEMO_REDIS_PID must be a PID (got ${env.DEMO_REDIS_PID})`);
  const host = env.HOST ?? '127.0.0.1';
  return {
    instanceName: env.INSTANCE_NAME ?? `sample-${port}`,
    host,
    port,
    store,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    dashboardInstances: list(env.DASHBOARD_INSTANCES),
    balancer,
    raceTargets: list(env.DEMO_RACE_TARGETS),
    redisPid,
    trustProxy: env.TRUST_PROXY || undefined,
  };
}
