// Simulated clients: requests at a steady rate, each client with its own API key, client 1 the busiest.

export const ROUTES = {
  '/api/items': 'GCRA, 2 per second with bursts of 10, per API key',
  '/demo/fail-open': 'token bucket, 5 per second per key; failMode open',
  '/demo/fail-closed': 'token bucket, 5 per second per key; failMode closed',
  '/demo/fail-local': 'token bucket, 5 per second per key; failMode local',
  '/public': 'fixed window, 10 per 30 s per client IP (every simulated client is this browser)',
};

/** Zipf weights: client k gets a share proportional to 1/k. */
function pickClient(clients) {
  const weights = Array.from({ length: clients }, (_, k) => 1 / (k + 1));
  let draw = Math.random() * weights.reduce((a, b) => a + b);
  for (const [k, weight] of weights.entries()) if ((draw -= weight) < 0) return k + 1;
  return clients;
}

export class Traffic {
  running = false;
  stats = { sent: 0, admitted: 0, denied: 0, failed: 0 };
  servedBy = new Map();
  timer;
  next = 0;

  /** `settings()` gives { rate, clients, route }; `targets()` the base URLs to send to, in turn. */
  constructor(settings, targets, onResult) {
    this.settings = settings;
    this.targets = targets;
    this.onResult = onResult;
  }

  start() {
    this.running = true;
    this.schedule();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }

  schedule() {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.send();
      this.schedule();
    }, 1000 / this.settings().rate);
  }

  async send() {
    const { clients, route } = this.settings();
    const targets = this.targets();
    const base = targets[this.next++ % targets.length];
    this.stats.sent++;
    let outcome = 'failed';
    try {
      const response = await fetch(base + route, { headers: { 'x-api-key': `sim-client-${pickClient(clients)}` } });
      outcome = response.ok ? 'admitted' : response.status === 429 ? 'denied' : 'failed';
      const body = await response.json().catch(() => ({}));
      if (body.instance) this.servedBy.set(body.instance, (this.servedBy.get(body.instance) ?? 0) + 1);
    } catch {
      // unreachable: counted as other
    }
    this.stats[outcome]++;
    this.onResult();
  }
}
