import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
// Page conditions are strings: they run in the browser, and this project's types have no DOM.
import { startDemo, type DemoProcess } from '../support/demo-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The README's picture is this test's screenshot: `DEMO_SCREENSHOT=sample/demo.png` writes it there. */
const SCREENSHOT = process.env.DEMO_SCREENSHOT ?? join(tmpdir(), 'rate-limit-demo.png');
const WAIT = { timeout: 45_000 };

let demo: DemoProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  demo = await startDemo();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(demo.url);
  await page.waitForSelector('body[data-ready="true"]');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.interrupt();
});

const text = (selector: string) => page.locator(selector).innerText();
const numberOf = async (selector: string) => Number(await text(selector));

it('shows three instances behind nginx, sharing one budget in Redis', async () => {
  await expect(text('#deployment')).resolves.toMatch(/^3 instances behind nginx \(round-robin\).*one budget per client in Redis/);
  await expect(page.locator('.instance').count()).resolves.toBe(3);
  expect(demo.output()).toMatch(/Balancer:\s+nginx round-robin/);
});

it('sends simulated traffic from the first second, spread over every instance by nginx', async () => {
  await page.waitForFunction("Number(document.getElementById('traffic-sent').textContent) >= 15", undefined, WAIT);
  const servedBy = await text('#served-by');
  for (const name of ['instance-a', 'instance-b', 'instance-c']) expect(servedBy).toMatch(new RegExp(`${name}: [1-9]`));
  const sent = await numberOf('#traffic-sent');
  const answered = (await numberOf('#traffic-admitted')) + (await numberOf('#traffic-denied')) + (await numberOf('#traffic-failed'));
  expect(answered).toBeLessThanOrEqual(sent);
  expect(await numberOf('#traffic-admitted')).toBeGreaterThan(0);
}, 60_000);

it("charts the decisions read from every instance's /metrics", async () => {
  await page.waitForFunction("Number(document.getElementById('metrics-total').dataset.allowed) > 0", undefined, WAIT);
  for (const id of ['a', 'b', 'c']) {
    await page.locator(`.instance[data-instance="${id}"] .counts`, { hasText: /allowed [1-9]/ }).waitFor(WAIT);
  }
}, 60_000);

it("lets the naive read-then-write route admit more than its limit, and the library's exactly the limit", async () => {
  await page.click('#race');
  await page.locator('#race-result[data-done="true"]').waitFor(WAIT);
  const admitted = async (side: string) => Number(await page.locator(`#race-${side}`).getAttribute('data-admitted'));
  expect(await admitted('naive')).toBeGreaterThan(10);
  expect(await admitted('atomic')).toBe(10);
  await expect(text('#race-atomic-verdict')).resolves.toMatch(/^of 60 sent, limit 10: exactly the limit · 50 denied$/);
  // The 50 denials of the library's route reach the log from the instances that denied them.
  const row = page.locator('#blocked tr', { hasText: 'GET /demo/atomic' }).first();
  await row.waitFor(WAIT);
  const cells = await row.locator('td').allInnerTexts();
  expect(cells[1]).toMatch(/^instance-[abc]$/);
  expect(cells.slice(3, 6)).toEqual(['atomic', expect.stringMatching(/^[A-Za-z0-9_-]{8,}$/), '429']);
  expect(cells[6]).toMatch(/^\d+ s$/);
  await page.screenshot({ path: SCREENSHOT });
}, 60_000);

it('pauses Redis: fail-open admits, fail-closed answers 503, /health is 503 on every instance; resuming recovers', async () => {
  await page.click('#redis-toggle');
  await page.locator('body[data-redis="paused"]').waitFor(WAIT);
  await page.locator('#failmode-closed .status[data-status="503"]').waitFor(WAIT);
  await page.locator('#failmode-open .status[data-status="200"]').waitFor(WAIT);
  await page.locator('#failmode-local .status[data-status="200"]').waitFor(WAIT);
  await page.waitForFunction("document.querySelectorAll('.instance .health.down').length === 3", undefined, WAIT);
  await expect(text('.instance[data-instance="a"] .health')).resolves.toMatch(/^\/health 503 · Redis down · breaker (closed|open|half-open)$/);

  await page.click('#redis-toggle');
  await page.locator('body[data-redis="running"]').waitFor(WAIT);
  await page.waitForFunction("document.querySelectorAll('.instance .health.up').length === 3", undefined, WAIT);
  await page.waitForFunction("document.querySelector('#failmode-closed .status').dataset.status !== '503'", undefined, WAIT);
  await expect(text('.instance[data-instance="b"] .health')).resolves.toMatch(/^\/health 200 · Redis up · [\d.]+ ms · breaker closed$/);
}, 120_000);

it('stops every process it started on Ctrl-C', async () => {
  const redisPid = Number(/redis-server at \S+ \(pid (\d+)\)/.exec(demo.output())?.[1]);
  const instanceUrls = /Balancer:.*? over (.*)/.exec(demo.output())![1].trim().split(/\s+/);
  expect(instanceUrls).toHaveLength(3);
  await expect(demo.interrupt()).resolves.toBe(0);
  expect(() => process.kill(redisPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  for (const url of [demo.url, ...instanceUrls]) await expect(fetch(`${url}/health`)).rejects.toThrow();
}, 60_000);
