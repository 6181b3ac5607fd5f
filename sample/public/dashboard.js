/* global document, location, Option */
// Fires requests at every sample instance and shows, live, what the shared budget admits.

const $ = (id) => document.getElementById(id);

/** GCRA emission interval of /api/items (120 per minute) and the refill of /llm/completions. */
const ITEMS_INTERVAL_MS = 500;
const TOKENS_PER_MS = 2000 / 60_000;

const SCENARIOS = {
  public: {
    label: 'Public · fixed window, 10 per 30 s per client IP',
    help: 'GET /public — keyed by your IP: repeated bursts within 30 s share what is left of the window.',
    request: () => ({ path: '/public' }),
    budget: () => '10 / 30 s',
    max: () => 10,
  },
  items: {
    label: 'API · GCRA, 2 per second, burst 10',
    help: 'GET /api/items — a fresh API key per burst: 10 at once, then one every 500 ms.',
    keyed: true,
    request: () => ({ path: '/api/items' }),
    budget: () => 'burst 10 + 2/s',
    max: (elapsedMs) => 10 + Math.ceil(elapsedMs / ITEMS_INTERVAL_MS),
  },
  reports: {
    label: 'Tiers · sliding window, free 10 / premium 50 per minute',
    help: 'GET /api/reports — the limit is a function of the plan of the API key.',
    keyed: true,
    plan: true,
    request: () => ({ path: '/api/reports' }),
    budget: ({ plan }) => (plan === 'premium' ? '50 / min' : '10 / min'),
    max: (_, { plan }) => (plan === 'premium' ? 50 : 10),
  },
  llm: {
    label: 'LLM · token bucket, 2000 tokens per minute, cost = tokens',
    help: 'POST /llm/completions — each request reserves the tokens it asks for, then is charged the usage the model reports (settle).',
    keyed: true,
    tokens: true,
    request: ({ tokens }) => ({ method: 'POST', path: '/llm/completions', body: { prompt: 'Hello', maxTokens: tokens } }),
    budget: () => '2000 tokens / min',
    max: (elapsedMs, { tokens }) => Math.floor((2000 + elapsedMs * TOKENS_PER_MS) / tokens),
  },
};

const scenario = () => SCENARIOS[$('scenario').value];
/** The form's settings, read once per run so that editing the form never changes a running one. */
const settings = () => ({ plan: $('plan').value, tokens: Math.max(1, Math.trunc(Number($('tokens').value)) || 1) });
const emptyStats = () => ({ sent: 0, admitted: 0, denied: 0, failed: 0, remaining: null });

let instances = [];
let run;
let streamTimer;

function renderInstances() {
  $('instances').innerHTML = '';
  for (const [index, instance] of instances.entries()) {
    const card = document.createElement('article');
    card.className = 'instance';
    card.dataset.instance = String(index);
    card.style.setProperty('--colour', instance.colour);
    card.innerHTML = `
      <h3><span>${instance.name}</span><span class="health">…</span></h3>
      <div class="url">${instance.url}</div>
      <dl>
        <dt>Admitted</dt><dd class="admitted">0</dd>
        <dt>Denied</dt><dd class="denied">0</dd>
        <dt>Failed</dt><dd class="failed">0</dd>
        <dt>Remaining (header)</dt><dd class="remaining">–</dd>
      </dl>
      <div class="bar"><span class="ok"></span><span class="no"></span></div>`;
    $('instances').append(card);
    instance.card = card;
  }
}

function showStats() {
  const total = emptyStats();
  for (const { stats, card } of instances) {
    for (const field of ['sent', 'admitted', 'denied', 'failed']) total[field] += stats[field];
    if (stats.remaining !== null) total.remaining = Math.min(total.remaining ?? Infinity, stats.remaining);
    card.querySelector('.admitted').textContent = stats.admitted;
    card.querySelector('.denied').textContent = stats.denied;
    card.querySelector('.failed').textContent = stats.failed;
    card.querySelector('.remaining').textContent = stats.remaining ?? '–';
    const sent = stats.sent || 1;
    card.querySelector('.bar .ok').style.width = `${(100 * stats.admitted) / sent}%`;
    card.querySelector('.bar .no').style.width = `${(100 * stats.denied) / sent}%`;
  }
  $('total-admitted').textContent = total.admitted;
  $('total-denied').textContent = total.denied;
  $('total-sent').textContent = total.sent;
  $('total-remaining').textContent = total.remaining ?? '–';
  return total;
}

function showVerdict() {
  const total = showStats();
  if (!run || total.sent === 0) return;
  const max = run.scenario.max(performance.now() - run.started, run.settings);
  const where = `across ${instances.length} instance${instances.length === 1 ? '' : 's'}`;
  const held = total.admitted <= max;
  $('verdict').className = `verdict ${held ? 'held' : 'broken'}`;
  $('verdict').textContent = held
    ? `✓ Limit held: ${total.admitted} admitted ${where} (at most ${max} allowed)`
    : `✗ ${total.admitted} admitted ${where}, over the limit of ${max}: each instance counted on its own`;
}

function startRun() {
  const current = scenario();
  const chosen = settings();
  const prefix = current.plan ? chosen.plan : 'demo';
  const key = current.keyed ? `${prefix}_${Math.random().toString(36).slice(2, 10)}` : undefined;
  run = { scenario: current, settings: chosen, started: performance.now(), key };
  for (const instance of instances) instance.stats = emptyStats();
  $('timeline').innerHTML = '';
  $('verdict').textContent = '';
  $('budget').textContent = current.budget(chosen);
  showStats();
}

function showHeaders(instance, response) {
  const names = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit-Policy', 'RateLimit', 'Retry-After'];
  const lines = names.filter((name) => response.headers.has(name)).map((name) => `${name}: ${response.headers.get(name)}`);
  $('headers').textContent = [`${instance.name} → HTTP ${response.status}`, ...lines].join('\n');
}

async function send(instance) {
  const current = run;
  const { stats } = instance;
  const { method = 'GET', path, body } = current.scenario.request(current.settings);
  const headers = {};
  if (current.key) headers['x-api-key'] = current.key;
  if (body) headers['content-type'] = 'application/json';
  stats.sent++;
  let outcome = 'failed';
  let response;
  try {
    response = await fetch(instance.url + path, { method, headers, body: body && JSON.stringify(body) });
    outcome = response.ok ? 'admitted' : response.status === 429 ? 'denied' : 'failed';
  } catch {
    // an unreachable instance: counted as failed
  }
  if (run !== current) return; // a response to an earlier run
  stats[outcome]++;
  if (response) {
    const remaining = response.headers.get('X-RateLimit-Remaining');
    if (remaining !== null) stats.remaining = Number(remaining);
    showHeaders(instance, response);
  }
  const cell = document.createElement('span');
  cell.className = outcome;
  cell.style.setProperty('--colour', instance.colour);
  cell.title = `${instance.name}: ${outcome}`;
  $('timeline').append(cell);
  showVerdict();
}

async function fireBurst() {
  stopStream();
  const count = Math.min(500, Math.max(1, Math.trunc(Number($('count').value)) || 1));
  startRun();
  $('fire').disabled = true;
  await Promise.all(Array.from({ length: count }, (_, i) => send(instances[i % instances.length])));
  $('fire').disabled = false;
}

function stopStream() {
  clearInterval(streamTimer);
  streamTimer = undefined;
  $('stream').classList.remove('active');
  $('stream').textContent = 'Stream 10 req/s';
}

function toggleStream() {
  if (streamTimer) return stopStream();
  startRun();
  let next = 0;
  streamTimer = setInterval(() => send(instances[next++ % instances.length]), 100);
  $('stream').classList.add('active');
  $('stream').textContent = 'Stop stream';
}

async function pollHealth(instance) {
  const pill = instance.card.querySelector('.health');
  try {
    const response = await fetch(`${instance.url}/health`);
    const redis = (await response.json()).details?.redis ?? {};
    pill.className = `health ${response.ok ? 'up' : 'down'}`;
    const store = redis.mode === 'memory' ? 'memory store' : response.ok ? `Redis up · ${redis.latencyMs} ms` : 'Redis down';
    pill.textContent = redis.breaker && redis.breaker !== 'closed' ? `${store} · breaker ${redis.breaker}` : store;
  } catch {
    pill.className = 'health down';
    pill.textContent = 'unreachable';
  }
}

function showScenarioFields() {
  const current = scenario();
  $('plan-field').hidden = !current.plan;
  $('tokens-field').hidden = !current.tokens;
  $('scenario-help').textContent = current.help;
  $('budget').textContent = current.budget(settings());
}

async function start() {
  const info = await (await fetch('/dashboard/instances')).json();
  $('store').textContent = info.store === 'memory' ? 'memory (per instance: limits are not shared!)' : 'Redis (shared)';
  const urls = info.instances.length ? info.instances : [location.origin];
  instances = urls.map((url, i) => ({
    url: url.replace(/\/$/, ''),
    name: `Instance ${String.fromCharCode(65 + i)}`,
    colour: `var(--i${i % 5})`,
    stats: emptyStats(),
  }));
  renderInstances();
  for (const [value, { label }] of Object.entries(SCENARIOS)) $('scenario').add(new Option(label, value));
  for (const id of ['scenario', 'plan', 'tokens']) $(id).addEventListener('change', showScenarioFields);
  showScenarioFields();
  $('fire').addEventListener('click', fireBurst);
  $('stream').addEventListener('click', toggleStream);
  const poll = () => instances.forEach(pollHealth);
  poll();
  setInterval(poll, 2000);
  document.body.dataset.ready = 'true';
}

start();
