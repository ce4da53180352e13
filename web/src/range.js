// Time ranges shared by the overview and the logs: presets relative to
// now, or a custom span, with the analytics bucket that suits each.

export const presets = [
  { id: '1h', label: 'Last hour', ms: 3600e3 },
  { id: '24h', label: 'Last day', ms: 86400e3 },
  { id: '7d', label: 'Last week', ms: 7 * 86400e3 },
];

// Buckets, in seconds, from which the smallest giving at most maxBuckets
// points is picked.
const steps = [10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];
const maxBuckets = 72;

/** interval picks the bucket size in seconds for a span in ms. */
export function interval(spanMs) {
  for (const s of steps) if (spanMs / 1000 / s <= maxBuckets) return s;
  return steps[steps.length - 1];
}

/**
 * resolve turns {range, from, to} (from/to as datetime-local text) into
 * absolute Dates, or an error message for a bad custom range.
 */
export function resolve({ range, from, to }, now = Date.now()) {
  const p = presets.find((x) => x.id === range);
  if (p) return { since: new Date(now - p.ms), until: new Date(now) };
  const since = from ? new Date(from) : null;
  // datetime-local stops at the minute: "to 16:47" includes 16:47:59.
  const until = to ? new Date(new Date(to).getTime() + 60e3) : new Date(now);
  if (!since || Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) return { error: 'Pick a start time for the custom range.' };
  if (since >= until) return { error: 'The start of the range must be before its end.' };
  return { since, until };
}

/** buckets lists the bucket starts (ms) covering [since, until). */
export function buckets(since, until, stepS) {
  const step = stepS * 1000;
  const out = [];
  for (let t = Math.floor(since.getTime() / step) * step; t < until.getTime(); t += step) out.push(t);
  return out;
}

const hm = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dhm = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const d = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** label formats a bucket start for an axis of buckets stepS long. */
export function label(t, stepS, spanMs) {
  if (stepS >= 86400) return d.format(t);
  return spanMs <= 86400e3 ? hm.format(t) : dhm.format(t);
}
