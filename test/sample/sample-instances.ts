import type { NestExpressApplication } from '@nestjs/platform-express';
import { createSampleApp } from '../../sample/src/create-sample-app.js';
import type { SampleConfig } from '../../sample/src/sample-config.js';
import { freePort } from '../support/redis-server.js';

export interface SampleInstances {
  urls: string[];
  close(): Promise<void>;
}

/** `count` sample apps in this process, on free loopback ports, each knowing all the others. */
export async function startSampleInstances(count: number, redisUrl: string): Promise<SampleInstances> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const apps: NestExpressApplication[] = [];
  for (const [index, port] of ports.entries()) {
    const config: SampleConfig = {
      instanceName: `instance-${index + 1}`,
      host: '127.0.0.1',
      port,
      store: 'redis',
      redisUrl,
      dashboardInstances: urls,
      balancer: 'page',
      raceTargets: urls,
      redisPid: undefined,
      trustProxy: undefined,
    };
    const app = await createSampleApp(config, { logger: false });
    await app.listen(port, config.host);
    apps.push(app);
  }
  return {
    urls,
    async close() {
      await Promise.all(apps.map((app) => app.close()));
    },
  };
}
