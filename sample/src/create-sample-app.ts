import type { NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { fileURLToPath } from 'node:url';
import { AppModule } from './app.module.js';
import { carryRequest } from './demo/request-route.js';
import type { SampleConfig } from './sample-config.js';

/** Browsers hide response headers from scripts on other origins unless CORS exposes them. */
const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Retry-After'];

/** The dashboard's files, beside `src/` and `dist/` alike. */
const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

export async function createSampleApp(config: SampleConfig, options?: NestApplicationOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), options);
  // Behind a proxy every request comes from the proxy: the client IP, and so the default
  // tracker, is then the proxy's X-Forwarded-For, which Express reads only from trusted hops.
  if (config.trustProxy) app.set('trust proxy', config.trustProxy);
  app.use(carryRequest);
  app.enableCors({ exposedHeaders: RATE_LIMIT_HEADERS });
  app.useStaticAssets(PUBLIC_DIR);
  return app;
}
