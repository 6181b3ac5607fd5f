import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

export interface TestApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** A real Nest application listening on a free loopback port, on the chosen HTTP adapter. */
export async function startApp(adapter: AdapterName, metadata: ModuleMetadata): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication();
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export async function request(url: string, init?: RequestInit): Promise<HttpResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body };
}

/** Sends `count` requests at once and returns their statuses. */
export async function burst(url: string, count: number, init?: RequestInit): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => request(url, init).then((r) => r.status)));
}

export const countOf = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;
