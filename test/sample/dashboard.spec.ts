import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RedisServer } from '../support/redis-server.js';
import { startSampleInstances, type SampleInstances } from './sample-instances.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let redis: RedisServer;
let instances: SampleInstances;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  redis = await RedisServer.start();
  instances = await startSampleInstances(2, redis.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(instances.urls[0]);
  await page.waitForSelector('body[data-ready="true"]');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await instances?.close();
  await redis?.destroy();
});

const text = (selector: string) => page.locator(selector).innerText();

async function fireBurst(scenario: string, count: number): Promise<void> {
  await page.selectOption('#scenario', scenario);
  await page.fill('#count', String(count));
  await page.click('#fire');
  await page.locator('#total-sent', { hasText: new RegExp(`^${count}$`) }).waitFor();
  await page.locator('#fire:enabled').waitFor();
}

it('lists every instance and shows each one healthy', async () => {
  await expect(page.locator('.instance').count()).resolves.toBe(2);
  for (const index of [0, 1]) await page.locator(`.instance[data-instance="${index}"] .health.up`).waitFor();
  await expect(text('.instance[data-instance="1"] .url')).resolves.toBe(instances.urls[1]);
});

it('admits exactly the limit across both instances, and shows it per instance and in total', async () => {
  await fireBurst('public', 30);
  await expect(text('#total-admitted')).resolves.toBe('10');
  await expect(text('#total-denied')).resolves.toBe('20');
  const perInstance = await page.locator('.instance .admitted').allInnerTexts();
  expect(perInstance.map(Number).reduce((a, b) => a + b)).toBe(10);
  await expect(text('#total-remaining')).resolves.toBe('0');
  await expect(text('#verdict')).resolves.toContain('Limit held: 10 admitted across 2 instances');
  await expect(text('#headers')).resolves.toMatch(/RateLimit: "default";r=0;t=\d+/);
  await page.screenshot({ path: '/tmp/dashboard.png', fullPage: true });
});

it('gives a premium API key its larger tier, with a fresh budget per burst', async () => {
  await page.selectOption('#scenario', 'reports');
  await page.selectOption('#plan', 'premium');
  const started = performance.now();
  await fireBurst('reports', 60);
  const elapsedMs = performance.now() - started;
  // A sliding window aligned to whole minutes: exactly 50 within one; a minute boundary during the
  // burst lets at most 50 * e / 60 s more pass, e being the time since the boundary.
  const admitted = Number(await text('#total-admitted'));
  expect(admitted).toBeGreaterThanOrEqual(50);
  expect(admitted).toBeLessThanOrEqual(50 + Math.floor((50 * elapsedMs) / 60_000));
  await expect(text('#total-denied')).resolves.toBe(String(60 - admitted));
});
