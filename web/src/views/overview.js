// Overview: traffic, tokens, cost, errors, cache and latency over time,
// grouped as the operator asks, with the top models and keys by cost. All
// figures come from GET /admin/v1/analytics.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, useLoad, Loading, Empty, ErrorBox, Section, Chart, color } from '../ui.js';
import { presets, resolve, interval, buckets, label } from '../range.js';
import { int, num, usd, pct, ms, toLocalInput } from '../format.js';

const groupings = [
  { id: '', label: 'No grouping' },
  { id: 'provider', label: 'Provider' },
  { id: 'model', label: 'Model' },
  { id: 'key', label: 'Key' },
  { id: 'tenant', label: 'Tenant' },
];

// At most this many groups get their own series; the rest add up to
// "other" where that makes sense (counts), and are left out where it does
// not (percentiles).
const maxGroups = 8;

function setParams(next) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(next)) if (v) q.set(k, v);
  location.hash = '#/overview' + (q.toString() ? '?' + q : '');
}

export function Overview({ params }) {
  const state = {
    range: params.get('range') || '24h',
    from: params.get('from') || '',
    to: params.get('to') || '',
    group: params.get('group') || '',
  };
  const [custom, setCustom] = useState({ from: state.from, to: state.to });
  const r = resolve(state);
  const key = JSON.stringify(state);
  const data = useLoad(
    async (signal) => {
      if (r.error) return null;
      const span = r.until - r.since;
      const step = interval(span);
      const base = { since: r.since.toISOString(), until: r.until.toISOString() };
      const [series, totals, models, keys, keyList] = await Promise.all([
        api('/analytics', { params: { ...base, interval: step + 's', group_by: state.group }, signal }),
        api('/analytics', { params: base, signal }),
        api('/analytics', { params: { ...base, group_by: 'model' }, signal }),
        api('/analytics', { params: { ...base, group_by: 'key' }, signal }),
        // Key names for the key ids analytics groups by; a gateway
        // without key management still shows ids.
        api('/keys', { params: { include_revoked: true }, signal }).catch(() => null),
      ]);
      const names = {};
      for (const k of keyList?.data || []) names[k.id] = k.name;
      return { series: series.data, totals: totals.data[0], models: models.data, keys: keys.data, names, since: r.since, until: r.until, step };
    },
    [key],
  );
  // Relative ranges follow the clock.
  useEffect(() => {
    if (state.range === 'custom') return undefined;
    const t = setInterval(data.reload, 30000);
    return () => clearInterval(t);
  }, [key]);

  const onRange = (e) => {
    const range = e.currentTarget.value;
    if (range === 'custom') {
      const until = new Date();
      const since = new Date(until - 86400e3);
      setCustom({ from: toLocalInput(since), to: toLocalInput(until) });
      setParams({ ...state, range, from: toLocalInput(since), to: toLocalInput(until) });
    } else setParams({ ...state, range, from: '', to: '' });
  };

  return html`
    <div class="page-head">
      <h1>Overview</h1>
      <form class="toolbar" aria-label="Time range and grouping" onSubmit=${(e) => { e.preventDefault(); setParams({ ...state, ...custom }); }}>
        <div class="field"><label for="ov-range">Time range</label>
          <select id="ov-range" name="range" value=${state.range} onChange=${onRange}>
            ${presets.map((p) => html`<option value=${p.id}>${p.label}</option>`)}
            <option value="custom">Custom…</option>
          </select>
        </div>
        ${state.range === 'custom' &&
        html`<label>From <input type="datetime-local" name="from" value=${custom.from} onInput=${(e) => { const x = e.currentTarget.value; setCustom((c) => ({ ...c, from: x })); }} /></label>
          <label>To <input type="datetime-local" name="to" value=${custom.to} onInput=${(e) => { const x = e.currentTarget.value; setCustom((c) => ({ ...c, to: x })); }} /></label>
          <button type="submit">Apply</button>`}
        <div class="field"><label for="ov-group">Group by</label>
          <select id="ov-group" name="group" value=${state.group} onChange=${(e) => setParams({ ...state, group: e.currentTarget.value })}>
            ${groupings.map((g) => html`<option value=${g.id}>${g.label}</option>`)}
          </select>
        </div>
        <button type="button" onClick=${data.reload} aria-label="Refresh now">Refresh</button>
      </form>
    </div>
    ${r.error ? html`<div class="state error" role="alert">${r.error}</div>` : html`<${Body} data=${data} group=${state.group} />`}
  `;
}

function Body({ data, group }) {
  if (data.error) return html`<${ErrorBox} error=${data.error} what="analytics" onRetry=${data.reload} />`;
  if (!data.data) return html`<${Loading} label="Loading analytics…" />`;
  const d = data.data;
  const t = d.totals;
  if (!t || !t.requests) {
    return html`<${Empty}>No requests in this time range yet. Send traffic through the gateway and it shows up here within seconds.<//>`;
  }
  return html`
    <div aria-busy=${data.loading ? 'true' : 'false'}>
      <${Tiles} t=${t} />
      <${Charts} d=${d} group=${group} />
      <div class="grid two">
        <${TopChart} title="Top models by cost" id="top-models" name="top-models" rows=${d.models} labelOf=${(g) => g || '(unknown)'} />
        <${TopChart} title="Top keys by cost" id="top-keys" name="top-keys" rows=${d.keys} labelOf=${(g) => (g ? d.names[g] || g : '(no key)')} />
      </div>
    </div>
  `;
}

function Tiles({ t }) {
  const tiles = [
    ['Requests', int(t.requests)],
    ['Tokens', num(t.input_tokens + t.output_tokens)],
    ['Cost', usd(t.cost_usd)],
    ['Error rate', pct(t.errors / t.requests)],
    ['Cache hit rate', pct(t.cache_hit_rate)],
    ['Latency p50 / p95', ms(t.latency_p50_ms) + ' / ' + ms(t.latency_p95_ms)],
    ['TTFT p50', ms(t.ttft_p50_ms)],
  ];
  return html`<dl class="tiles">
    ${tiles.map(([k, v]) => html`<div class="tile"><dt>${k}</dt><dd data-tile=${k}>${v}</dd></div>`)}
  </dl>`;
}

/** series arranges analytics rows per group over the buckets. */
function arrange(d) {
  const times = buckets(d.since, d.until, d.step);
  const index = new Map(times.map((t, i) => [t, i]));
  const totals = new Map();
  for (const row of d.series) totals.set(row.group || '', (totals.get(row.group || '') || 0) + row.requests);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const shown = ranked.slice(0, maxGroups);
  const hasOther = ranked.length > maxGroups;
  const groups = hasOther ? [...shown, '\u0000other'] : shown;
  const cells = new Map(groups.map((g) => [g, times.map(() => null)]));
  for (const row of d.series) {
    const i = index.get(new Date(row.bucket).getTime());
    if (i === undefined) continue;
    let g = row.group || '';
    if (!shown.includes(g)) g = '\u0000other';
    const arr = cells.get(g);
    const prev = arr[i];
    if (!prev) arr[i] = { ...row };
    else {
      // Only additive fields are summed into "other".
      for (const f of ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cost_usd']) prev[f] += row[f];
      prev.other = true;
    }
  }
  return { times, groups, cells };
}

function Charts({ d, group }) {
  const charts = useMemo(() => build(d, group), [d, group]);
  return html`<div class="grid charts">
    ${charts.map(
      (c) => html`<${Section} title=${c.title} id=${'chart-' + c.name} class="chart-card">
        <${Chart} name=${c.name} config=${c.config} summary=${c.summary} />
      <//>`,
    )}
  </div>`;
}

function build(d, group) {
  const { times, groups, cells } = arrange(d);
  const span = d.until - d.since;
  const labels = times.map((t) => label(t, d.step, span));
  const groupName = (g) => (g === '\u0000other' ? 'other' : g === '' ? '(none)' : group === 'key' ? d.names[g] || g : g);
  const grouped = group !== '';
  const zero = (v) => (v == null ? 0 : v);
  const perGroup = (f, { additive = true, skipOther = false } = {}) =>
    groups
      .filter((g) => !(skipOther && g === '\u0000other'))
      .map((g, i) => ({
        label: groupName(g),
        data: cells.get(g).map((c) => (c ? f(c) : additive ? 0 : null)),
        backgroundColor: color(i),
        borderColor: color(i),
      }));
  const merged = times.map((_, i) => {
    const m = { requests: 0, errors: 0, cache_hits: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, rows: [] };
    for (const g of groups) {
      const c = cells.get(g)[i];
      if (!c) continue;
      for (const f of ['requests', 'errors', 'cache_hits', 'input_tokens', 'output_tokens', 'cost_usd']) m[f] += c[f];
      m.rows.push(c);
    }
    return m;
  });
  const one = (lbl, f, i = 0, additive = true) => ({
    label: lbl,
    data: merged.map((m) => (m.rows.length ? f(m) : additive ? 0 : null)),
    backgroundColor: color(i),
    borderColor: color(i),
  });
  // Without grouping there is one row per bucket, so percentiles are read
  // straight from it.
  const single = (f) => (m) => (m.rows.length === 1 ? f(m.rows[0]) : null);
  const rate = (num, den) => (den ? num / den : null);

  const sum = (ds) => ds.reduce((a, s) => a + s.data.reduce((x, v) => x + zero(v), 0), 0);
  const defs = [
    {
      name: 'requests', title: 'Requests', type: 'bar', stacked: true, fmt: int,
      datasets: grouped ? perGroup((c) => c.requests) : [one('Requests', (m) => m.requests)],
    },
    {
      name: 'tokens', title: 'Tokens', type: 'bar', stacked: true, fmt: num,
      datasets: grouped
        ? perGroup((c) => c.input_tokens + c.output_tokens)
        : [one('Input', (m) => m.input_tokens, 0), one('Output', (m) => m.output_tokens, 1)],
    },
    {
      name: 'cost', title: 'Cost (USD)', type: 'bar', stacked: true, fmt: usd,
      datasets: grouped ? perGroup((c) => c.cost_usd) : [one('Cost', (m) => m.cost_usd)],
    },
    {
      name: 'error-rate', title: 'Error rate', type: 'line', fmt: pct, max: 1,
      datasets: grouped
        ? perGroup((c) => rate(c.errors, c.requests), { additive: false })
        : [one('Error rate', (m) => rate(m.errors, m.requests), 0, false)],
    },
    {
      name: 'cache-hit-rate', title: 'Cache hit rate', type: 'line', fmt: pct, max: 1,
      datasets: grouped
        ? perGroup((c) => rate(c.cache_hits, c.requests), { additive: false })
        : [one('Cache hit rate', (m) => rate(m.cache_hits, m.requests), 0, false)],
    },
    {
      name: 'latency', title: grouped ? 'Latency p95' : 'Latency p50 / p95', type: 'line', fmt: ms,
      datasets: grouped
        ? perGroup((c) => (c.other ? null : c.latency_p95_ms), { additive: false, skipOther: true })
        : [one('p50', single((r) => r.latency_p50_ms), 0, false), one('p95', single((r) => r.latency_p95_ms), 1, false)],
    },
    {
      name: 'ttft', title: grouped ? 'Time to first token p50' : 'Time to first token p50 / p95', type: 'line', fmt: ms,
      datasets: grouped
        ? perGroup((c) => (c.other ? null : c.ttft_p50_ms), { additive: false, skipOther: true })
        : [one('p50', single((r) => r.ttft_p50_ms), 0, false), one('p95', single((r) => r.ttft_p95_ms), 1, false)],
    },
  ];
  return defs.map((c) => {
    const stacked = !!c.stacked;
    const config = {
      type: c.type,
      data: { labels, datasets: c.datasets.map((ds) => ({ ...ds, spanGaps: false, pointRadius: c.type === 'line' ? 2 : 0, borderWidth: c.type === 'line' ? 2 : 0 })) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { display: c.datasets.length > 1, position: 'bottom', labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${c.fmt(ctx.parsed.y)}` } },
        },
        scales: {
          x: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 12 }, grid: { display: false } },
          y: { stacked, beginAtZero: true, max: c.max, ticks: { callback: (v) => c.fmt(v), maxTicksLimit: 6 } },
        },
      },
    };
    const summary =
      c.type === 'bar'
        ? `${c.title} per ${d.step >= 3600 ? d.step / 3600 + ' h' : d.step / 60 + ' min'}: ${c.fmt(sum(c.datasets))} in all, ${c.datasets.length} series`
        : `${c.title} over time, ${c.datasets.length} series`;
    return { name: c.name, title: c.title, config, summary };
  });
}

function TopChart({ title, id, name, rows, labelOf }) {
  const top = [...rows].sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests).slice(0, 10);
  const config = useMemo(
    () => ({
      type: 'bar',
      data: {
        labels: top.map((r) => labelOf(r.group)),
        datasets: [{ label: 'Cost', data: top.map((r) => r.cost_usd), backgroundColor: color(0) }],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `${usd(ctx.parsed.x)} · ${int(top[ctx.dataIndex].requests)} requests` } },
        },
        scales: { x: { beginAtZero: true, ticks: { callback: (v) => usd(v), maxTicksLimit: 5 } }, y: { ticks: { autoSkip: false } } },
      },
    }),
    [rows],
  );
  const summary = top.length ? `${title}: ` + top.map((r) => `${labelOf(r.group)} ${usd(r.cost_usd)}`).join(', ') : `${title}: none`;
  return html`<${Section} title=${title} id=${id}>
    ${top.length ? html`<${Chart} name=${name} config=${config} summary=${summary} height=${Math.max(120, 28 * top.length + 40)} />` : html`<${Empty}>Nothing in this range.<//>`}
  <//>`;
}
