// Decisions per second from Prometheus counters, drawn as lines on a canvas.

export const OUTCOMES = ['allowed', 'denied', 'failed'];
const COLOURS = { allowed: '#1f9d55', denied: '#d64545', failed: '#c77c02' };
const POINTS = 60;

/** Sums `rate_limit_decisions_total` by outcome over every policy and route. */
export function decisionTotals(text) {
  const totals = { allowed: 0, denied: 0, failed: 0 };
  for (const line of text.split('\n')) {
    const match = /^rate_limit_decisions_total\{([^}]*)\}\s+(\S+)/.exec(line);
    const outcome = match && /outcome="([^"]+)"/.exec(match[1])?.[1];
    if (outcome in totals) totals[outcome] += Number(match[2]);
  }
  return totals;
}

/** The last minute of per-second rates, computed from successive counter readings. */
export class RateSeries {
  points = [];
  last;

  /** Adds one reading; returns false for the first, which only sets the baseline. */
  add(totals, atMs) {
    const previous = this.last;
    this.last = { totals, atMs };
    if (!previous) return false;
    const seconds = Math.max(0.001, (atMs - previous.atMs) / 1000);
    // A restarted instance starts its counters again from zero.
    const rate = (outcome) => Math.max(0, totals[outcome] - previous.totals[outcome]) / seconds;
    this.push(Object.fromEntries(OUTCOMES.map((outcome) => [outcome, rate(outcome)])));
    return true;
  }

  push(point) {
    this.points.push(point);
    if (this.points.length > POINTS) this.points.shift();
  }
}

export function draw(canvas, points) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const top = Math.max(5, ...points.flatMap((point) => OUTCOMES.map((outcome) => point[outcome])));
  context.strokeStyle = '#e3e6ec';
  context.fillStyle = '#6b7385';
  context.font = '11px system-ui, sans-serif';
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(0, height - 0.5);
  context.lineTo(width, height - 0.5);
  context.stroke();
  context.fillText(`${Math.round(top)}/s`, 4, 12);
  const x = (i) => width - (points.length - 1 - i) * (width / (POINTS - 1));
  const y = (value) => height - 2 - (value / top) * (height - 16);
  context.lineWidth = 2;
  for (const outcome of OUTCOMES) {
    context.strokeStyle = COLOURS[outcome];
    context.beginPath();
    points.forEach((point, i) => (i ? context.lineTo(x(i), y(point[outcome])) : context.moveTo(x(i), y(point[outcome]))));
    context.stroke();
  }
}
