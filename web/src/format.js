// Formatting shared by the views: numbers, money, durations and times.

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const num = (n) => (n == null ? '—' : Math.abs(n) >= 10000 ? compact.format(n) : nf.format(n));
export const int = (n) => (n == null ? '—' : Math.round(n).toLocaleString());

export function usd(n) {
  if (n == null) return '—';
  if (n === 0) return '$0';
  if (Math.abs(n) < 0.01) return '$' + n.toPrecision(2);
  return '$' + n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export const pct = (r) => (r == null || Number.isNaN(r) ? '—' : (r * 100).toFixed(r < 0.1 && r > 0 ? 1 : 0) + '%');

export function ms(n) {
  if (n == null) return '—';
  if (n < 10 && n !== Math.round(n)) return n.toFixed(n < 1 ? 2 : 1) + ' ms';
  if (n < 1000) return Math.round(n) + ' ms';
  return (n / 1000).toFixed(n < 10000 ? 2 : 1) + ' s';
}

export function bytes(n) {
  if (n == null) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

const dt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const dateTime = (t) => (t ? dt.format(new Date(t)) : '—');

const tOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dShort = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
/** shortTime is the time alone for today, else the date and minute. */
export function shortTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  return d.toDateString() === new Date().toDateString() ? tOnly.format(d) : dShort.format(d);
}

/** ago says how long ago t was, coarsely. */
export function ago(t) {
  if (!t) return 'never';
  const s = (Date.now() - new Date(t).getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

/** toLocalInput renders a Date for <input type="datetime-local">. */
export function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** pretty indents a JSON text, or returns it as it is. */
export function pretty(text) {
  if (!text) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
