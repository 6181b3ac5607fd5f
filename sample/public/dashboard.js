/* global document, EventSource, Option */
// The demo's dashboard: simulated traffic from the first second, each instance's /metrics as a
// chart, its blocked requests as a log, the naive-vs-atomic race and Redis paused live.
import { decisionTotals, draw, RateSeries } from './chart.js';
import { ROUTES, Traffic } from './traffic.js';

const $ = (id) => document.getElementById(id);
const MAX_LOG_ROWS = 150;

let info;
let instances = [];
const totalSeries = new RateSeries();

const number = (id, fallback, max) => Math.min(max, Math.max(1, Math.trunc(Number($(id).value)) || fallback));
const settings = () => ({ rate: number('rate', 8, 50), clients: number('clients', 4, 20), route: $('route').value });
/** Behind nginx, every request goes to this origin and nginx spreads them; otherwise the page takes turns. */
const targets = () => (info.balancer === 'nginx' ? [''] : instances.map((instance) => instance.url));
const traffic = new Traffic(settings, targets, showTraffic);

function describeDeployment() {
  const count = instances.length;
  const store =
    info.store === 'memory'
      ? 'Store: memory, in one process. No Redis was found, so the demo runs one instance: budgets here are not shared by anything.'
      : `They share one budget per client in Redis.${info.redisControl ? '' : ' (This Redis was given by REDIS_URL: the demo does not pause it.)'}`;
  const balancer =
    info.balancer === 'nginx'
      ? `${count} instances behind nginx (round-robin): this page sends every request to nginx.`
      : count > 1
        ? `${count} instances and no load balancer (nginx not found, or left out with DEMO_NGINX=off): this page spreads its requests over them itself.`
        : 'One instance.';
  $('deployment').textContent = `${balancer} ${store}`;
}

function showTraffic() {
  for (const field of ['sent', 'admitted', 'denied', 'failed']) $(`traffic-${field}`).textContent = traffic.stats[field];
  $('served-by').textContent = [...traffic.servedBy].sort().map(([name, n]) => `${name}: ${n}`).join('  ·  ') || '–';
}

function renderInstances() {
  for (const instance of instances) {
    const card = document.createElement('article');
    card.className = 'instance';
    card.dataset.instance = instance.id;
    card.innerHTML = `
      <h3><span class="name">${instance.name}</span><span class="health">…</span></h3>
      <div class="url muted">${instance.url}</div>
      <canvas width="380" height="90"></canvas>
      <div class="counts muted">–</div>`;
    $('instances').append(card);
    instance.card = card;
    instance.series = new RateSeries();
  }
}

async function pollMetrics() {
  const atMs = performance.now();
  const readings = await Promise.all(
    instances.map((instance) => fetch(`${instance.url}/metrics`).then((r) => r.text()).then(decisionTotals, () => undefined)),
  );
  const sum = { allowed: 0, denied: 0, failed: 0 };
  readings.forEach((totals, i) => {
    const instance = instances[i];
    if (!totals) return;
    for (const outcome of Object.keys(sum)) sum[outcome] += totals[outcome];
    if (instance.series.add(totals, atMs)) draw(instance.card.querySelector('canvas'), instance.series.points);
    instance.card.querySelector('.counts').textContent = `allowed ${totals.allowed} · denied ${totals.denied} · failed ${totals.failed}`;
  });
  if (totalSeries.add(sum, atMs)) draw($('chart-total'), totalSeries.points);
  $('metrics-total').textContent = `allowed ${sum.allowed} · denied ${sum.denied} · failed ${sum.failed}`;
  $('metrics-total').dataset.allowed = String(sum.allowed);
  $('metrics-total').dataset.denied = String(sum.denied);
}

async function pollHealth(instance) {
  const pill = instance.card.querySelector('.health');
  try {
    const response = await fetch(`${instance.url}/health`);
    const redis = (await response.json()).details?.redis ?? {};
    pill.className = `health ${response.ok ? 'up' : 'down'}`;
    const store = redis.mode === 'memory' ? 'memory store' : response.ok ? `Redis up · ${redis.latencyMs} ms` : 'Redis down';
    pill.textContent = `/health ${response.status} · ${store} · breaker ${redis.breaker ?? '?'}`;
  } catch {
    pill.className = 'health down';
    pill.textContent = 'unreachable';
  }
}

function logBlocked(entry) {
  const row = document.createElement('tr');
  const cells = [
    new Date(entry.at).toLocaleTimeString(),
    entry.instance,
    entry.route,
    entry.policy,
    entry.client,
    String(entry.status),
    entry.retryAfter === null ? '–' : `${entry.retryAfter} s`,
  ];
  for (const text of cells) row.insertCell().textContent = text;
  $('blocked').prepend(row);
  while ($('blocked').rows.length > MAX_LOG_ROWS) $('blocked').deleteRow(-1);
}

async function race() {
  $('race').disabled = true;
  delete $('race-result').dataset.done;
  for (const id of ['race-naive', 'race-atomic']) $(id).textContent = '…';
  try {
    const response = await fetch(`${targets()[0]}/demo/race`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: number('race-count', 60, 200) }),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(result.message ?? `HTTP ${response.status}`);
    for (const side of ['naive', 'atomic']) {
      const { admitted, denied, failed } = result[side];
      $(`race-${side}`).textContent = `${admitted} admitted`;
      $(`race-${side}`).dataset.admitted = String(admitted);
      const over = admitted - result.limit;
      $(`race-${side}-verdict`).textContent =
        `of ${result.count} sent, limit ${result.limit}: ${over > 0 ? `${over} over the limit` : over === 0 ? 'exactly the limit' : 'under the limit'} · ${denied} denied${failed ? ` · ${failed} failed` : ''}`;
      $(`race-${side}`).className = `value ${over > 0 ? 'broken' : 'held'}`;
    }
    $('race-result').dataset.done = 'true';
  } catch (error) {
    $('race-naive').textContent = $('race-atomic').textContent = '–';
    $('race-naive-verdict').textContent = `failed: ${error.message}`;
  } finally {
    $('race').disabled = false;
  }
}

let redisPaused = false;

async function pollRedis() {
  if (!info.redisControl) return;
  const state = await fetch(`${targets()[0]}/demo/redis`).then((r) => r.json(), () => undefined);
  if (!state) return;
  redisPaused = state.paused;
  $('redis-toggle').textContent = redisPaused ? 'Resume Redis' : 'Pause Redis';
  $('redis-state').textContent = redisPaused ? 'Redis is paused (SIGSTOP): connections stay open, nothing answers.' : 'Redis is running.';
  document.body.dataset.redis = redisPaused ? 'paused' : 'running';
}

async function toggleRedis() {
  $('redis-toggle').disabled = true;
  await fetch(`${targets()[0]}/demo/redis/${redisPaused ? 'resume' : 'pause'}`, { method: 'POST' }).catch(() => undefined);
  await pollRedis();
  $('redis-toggle').disabled = false;
}

let probeTurn = 0;

async function probeFailModes() {
  const base = targets()[probeTurn++ % targets().length];
  await Promise.all(
    ['open', 'closed', 'local'].map(async (mode) => {
      const cell = document.querySelector(`#failmode-${mode} .status`);
      try {
        const response = await fetch(`${base}/demo/fail-${mode}`, { headers: { 'x-api-key': 'failmode-probe' } });
        const retryAfter = response.headers.get('Retry-After');
        cell.textContent = `${response.status}${retryAfter ? ` · Retry-After ${retryAfter}` : ''}`;
        cell.dataset.status = String(response.status);
      } catch {
        cell.textContent = 'unreachable';
        cell.dataset.status = '0';
      }
    }),
  );
}

function setUpControls() {
  for (const path of Object.keys(ROUTES)) $('route').add(new Option(path, path));
  const showHelp = () => ($('route-help').textContent = ROUTES[$('route').value]);
  $('route').addEventListener('change', showHelp);
  showHelp();
  $('traffic-toggle').addEventListener('click', () => {
    if (traffic.running) traffic.stop();
    else traffic.start();
    $('traffic-toggle').textContent = traffic.running ? 'Pause traffic' : 'Resume traffic';
  });
  $('race').addEventListener('click', race);
  $('race').disabled = info.store === 'memory';
  if (info.store === 'memory') $('race-naive-verdict').textContent = 'needs Redis: the naive limiter keeps its count there';
  $('redis-toggle').addEventListener('click', toggleRedis);
  $('redis-toggle').disabled = !info.redisControl;
  if (!info.redisControl) {
    $('redis-state').textContent = info.store === 'memory' ? 'No Redis: nothing to pause.' : 'This Redis was given by REDIS_URL: the demo pauses only a redis-server it started.';
  }
}

async function start() {
  info = await (await fetch('/dashboard/instances')).json();
  const urls = info.instances.length ? info.instances : [''];
  instances = urls.map((url, i) => ({ id: String.fromCharCode(97 + i), url: url.replace(/\/$/, ''), name: `instance-${String.fromCharCode(97 + i)}` }));
  describeDeployment();
  renderInstances();
  setUpControls();
  for (const instance of instances) new EventSource(`${instance.url}/demo/blocked`).addEventListener('blocked', (event) => logBlocked(JSON.parse(event.data)));
  traffic.start();
  const every = (ms, task) => {
    void task();
    setInterval(task, ms);
  };
  every(1000, pollMetrics);
  every(1000, () => Promise.all(instances.map(pollHealth)));
  every(1000, pollRedis);
  every(500, probeFailModes);
  document.body.dataset.ready = 'true';
}

start();
