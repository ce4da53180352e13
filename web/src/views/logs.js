// Logs explorer: filter the request log, page through it, open one record
// with its bodies and timings, give feedback, or tail it live. Data:
// GET /admin/v1/logs, GET /admin/v1/logs/{id}, POST /admin/v1/logs/{id}/feedback.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, useLoad, Loading, Empty, ErrorBox, Dialog, Badge, Thumb, statusKind } from '../ui.js';
import { int, usd, ms, dateTime, shortTime, pretty } from '../format.js';

const pageSize = 50;
const tailEvery = 2000;

// Filter fields as they appear in the URL fragment; most are passed to
// the API as they are.
const fields = ['since', 'from', 'to', 'key', 'tenant', 'model', 'provider', 'status', 'cache_status', 'event_id', 'meta'];

const sinceOptions = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last day'],
  ['168h', 'Last week'],
  ['720h', 'Last 30 days'],
  ['', 'Any time'],
  ['custom', 'Custom…'],
];

function filtersOf(params) {
  const f = {};
  for (const k of fields) f[k] = params.get(k) || '';
  if (!params.has('since')) f.since = '24h';
  return f;
}

function hashFor(f, id) {
  const q = new URLSearchParams();
  for (const k of fields) if (f[k]) q.set(k, f[k]);
  if (f.since === '') q.set('since', '');
  return '#/logs' + (id ? '/' + encodeURIComponent(id) : '') + (q.toString() ? '?' + q : '');
}

/** apiParams turns the filter into the admin API's query, or an error. */
function apiParams(f) {
  const p = {};
  if (f.since === 'custom') {
    if (f.from) p.since = new Date(f.from).toISOString();
    // datetime-local stops at the minute: "to 16:47" includes 16:47:59.
    if (f.to) p.until = new Date(new Date(f.to).getTime() + 60e3).toISOString();
  } else if (f.since) p.since = f.since;
  for (const k of ['key', 'tenant', 'model', 'provider', 'status', 'cache_status', 'event_id']) if (f[k]) p[k] = f[k].trim();
  if (f.meta.trim()) {
    for (const pair of f.meta.split(',')) {
      const [k, ...v] = pair.split('=');
      if (!k.trim() || !v.length) return { error: `Metadata filters are key=value pairs separated by commas ("${pair.trim()}" is not).` };
      p['metadata.' + k.trim()] = v.join('=').trim();
    }
  }
  return { params: p };
}

export function Logs({ parts, params }) {
  const f = filtersOf(params);
  const id = parts[0];
  return html`
    <div class="page-head"><h1>Logs</h1></div>
    <${FilterForm} f=${f} />
    <${List} f=${f} />
    <${Detail} id=${id} onClose=${() => (location.hash = hashFor(f))} />
  `;
}

function FilterForm({ f }) {
  const [draft, setDraft] = useState(f);
  useEffect(() => setDraft(f), [JSON.stringify(f)]);
  // Functional updates: two quick edits must not overwrite each other
  // with a draft captured before the first one re-rendered.
  const set = (k, v) => setDraft((d) => ({ ...d, [k]: v })); // v read before the update runs
  const bind = (k) => ({ name: k, id: 'f-' + k, value: draft[k], onInput: (e) => set(k, e.currentTarget.value) });
  // On a phone the filters fold away behind a button (CSS shows it there
  // only); on wider screens they are always shown.
  const [shown, setShown] = useState(false);
  // Suggestions for the key and provider fields; the filters work without.
  const hints = useLoad(async (signal) => {
    const [keys, providers] = await Promise.all([
      api('/keys', { params: { include_revoked: true }, signal }).catch(() => null),
      api('/providers', { signal }).catch(() => null),
    ]);
    return { keys: keys?.data || [], providers: providers?.data || [] };
  }, []);
  const active = ['key', 'tenant', 'model', 'provider', 'status', 'cache_status', 'event_id', 'meta'].filter((k) => f[k]).length;
  return html`<form class=${'card filters' + (shown ? '' : ' folded')} aria-label="Log filters" onSubmit=${(e) => { e.preventDefault(); location.hash = hashFor(draft); }}>
    <button type="button" class="filters-toggle" aria-expanded=${shown ? 'true' : 'false'} aria-controls="filter-grid" onClick=${() => setShown(!shown)}>
      Filters${active ? ` (${active} active)` : ''}
    </button>
    <div class="filter-grid" id="filter-grid">
      <div class="field"><label for="f-since">Time</label>
        <select ...${bind('since')} onChange=${(e) => set('since', e.currentTarget.value)}>
          ${sinceOptions.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
        </select>
      </div>
      ${draft.since === 'custom' &&
      html`<label for="f-from">From <input type="datetime-local" ...${bind('from')} /></label>
        <label for="f-to">To <input type="datetime-local" ...${bind('to')} /></label>`}
      <label for="f-model">Model <input ...${bind('model')} placeholder="openai/gpt-4o-mini" /></label>
      <label for="f-provider">Provider <input ...${bind('provider')} placeholder="openai" list="provider-hints" /></label>
      <label for="f-key">Key id <input ...${bind('key')} list="key-hints" /></label>
      <datalist id="provider-hints">${(hints.data?.providers || []).map((p) => html`<option value=${p.id} />`)}</datalist>
      <datalist id="key-hints">${(hints.data?.keys || []).map((k) => html`<option value=${k.id}>${k.name}${k.tenant ? ' · ' + k.tenant : ''}</option>`)}</datalist>
      <label for="f-tenant">Tenant <input ...${bind('tenant')} /></label>
      <div class="field"><label for="f-status">Status</label>
        <select ...${bind('status')} onChange=${(e) => set('status', e.currentTarget.value)}>
          <option value="">Any</option><option value="success">Success</option><option value="error">Error</option>
          <option value="2xx">2xx</option><option value="4xx">4xx</option><option value="429">429</option><option value="5xx">5xx</option>
        </select>
      </div>
      <div class="field"><label for="f-cache_status">Cache</label>
        <select ...${bind('cache_status')} onChange=${(e) => set('cache_status', e.currentTarget.value)}>
          <option value="">Any</option><option>HIT</option><option>SEMANTIC_HIT</option><option>MISS</option><option>BYPASS</option>
        </select>
      </div>
      <label for="f-event_id">Event id <input ...${bind('event_id')} /></label>
      <label for="f-meta" class="wide">Metadata <input ...${bind('meta')} placeholder="team=search, user=42" /></label>
    </div>
    <div class="filter-actions">
      <button type="submit" class="primary">Apply filters</button>
      <button type="button" onClick=${() => (location.hash = '#/logs')}>Reset</button>
    </div>
  </form>`;
}

function List({ f }) {
  const [cursors, setCursors] = useState(['']); // cursor of each page seen
  const [tail, setTail] = useState(false);
  const seen = useRef(new Set());
  const [fresh, setFresh] = useState(new Set());
  const key = JSON.stringify(f);
  useEffect(() => setCursors(['']), [key]);
  const cursor = cursors[cursors.length - 1];
  const q = apiParams(f);
  const data = useLoad(
    async (signal) => {
      if (q.error) return null;
      return api('/logs', { params: { ...q.params, limit: pageSize, cursor }, signal });
    },
    [key, cursor],
  );
  useEffect(() => {
    if (!tail) return undefined;
    setCursors(['']);
    const t = setInterval(data.reload, tailEvery);
    return () => clearInterval(t);
  }, [tail, key]);
  // Records that arrived since the previous load are highlighted.
  useEffect(() => {
    const recs = data.data?.data || [];
    const next = new Set();
    if (seen.current.size) for (const r of recs) if (!seen.current.has(r.id)) next.add(r.id);
    seen.current = new Set(recs.map((r) => r.id));
    setFresh(next);
  }, [data.data]);
  useEffect(() => {
    seen.current = new Set();
  }, [key]);

  if (q.error) return html`<div class="state error" role="alert">${q.error}</div>`;
  const recs = data.data?.data;
  return html`<section class="card" aria-labelledby="logs-title">
    <header class="card-head">
      <h2 id="logs-title">Requests</h2>
      <div class="card-actions">
        <label class="toggle"><input type="checkbox" checked=${tail} onChange=${(e) => setTail(e.currentTarget.checked)} /> Live tail</label>
        <button type="button" onClick=${data.reload}>Refresh</button>
      </div>
    </header>
    <p class="sr-only" aria-live="polite">${tail && fresh.size ? fresh.size + ' new requests' : ''}</p>
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="logs" onRetry=${data.reload} />`
      : !recs
        ? html`<${Loading} label="Loading logs…" />`
        : !recs.length
          ? html`<${Empty}>No requests match these filters.<//>`
          : html`<div class="table-wrap" aria-busy=${data.loading ? 'true' : 'false'}>
              <table class="logs cards">
                <thead><tr>
                  <th scope="col">Time</th><th scope="col">Status</th><th scope="col">Model</th><th scope="col">Provider</th>
                  <th scope="col">Key</th><th scope="col" class="num">Tokens in / out</th><th scope="col" class="num">Cost</th>
                  <th scope="col" class="num">Latency</th><th scope="col">Cache</th>
                </tr></thead>
                <tbody>
                  ${recs.map((r) => html`<tr class=${fresh.has(r.id) ? 'fresh' : ''} data-log-id=${r.id}>
                    <td data-label="Time"><a href=${hashFor(f, r.id)} aria-label=${'Open request of ' + dateTime(r.created_at)} title=${dateTime(r.created_at)}>${shortTime(r.created_at)}</a></td>
                    <td data-label="Status"><${Badge} kind=${statusKind(r.status, r.error)}>${r.status || 'error'}<//></td>
                    <td data-label="Model" class="mono">${r.model}${r.served_model && r.served_model !== r.model && !r.model.endsWith('/' + r.served_model) ? html`<span class="muted"> → ${r.served_model}</span>` : ''}</td>
                    <td data-label="Provider">${r.provider || '—'}</td>
                    <td data-label="Key">${r.key_name || r.key_id || '—'}${r.tenant ? html`<span class="muted"> · ${r.tenant}</span>` : ''}</td>
                    <td data-label="Tokens" class="num">${int(r.input_tokens)} / ${int(r.output_tokens)}</td>
                    <td data-label="Cost" class="num">${usd(r.cost_usd)}</td>
                    <td data-label="Latency" class="num">${ms(r.duration_ms)}</td>
                    <td data-label="Cache">${r.cache_status || '—'}${r.feedback ? html` <span class="rated" role="img" aria-label=${r.feedback > 0 ? 'rated good' : 'rated bad'}><${Thumb} down=${r.feedback < 0} /></span>` : ''}</td>
                  </tr>`)}
                </tbody>
              </table>
            </div>`}
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled=${cursors.length < 2 || tail} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
      <span>Page ${cursors.length}</span>
      <button type="button" disabled=${!data.data?.next_cursor || tail} onClick=${() => setCursors([...cursors, data.data.next_cursor])}>Older →</button>
    </nav>
  </section>`;
}

function Detail({ id, onClose }) {
  const data = useLoad(async (signal) => (id ? api('/logs/' + encodeURIComponent(id), { signal }) : null), [id]);
  const r = data.data;
  return html`<${Dialog} open=${!!id} title="Request" onClose=${onClose} id="log-detail">
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="this request" onRetry=${data.reload} />`
      : !r
        ? html`<${Loading} />`
        : html`<${Record} r=${r} onSaved=${data.reload} />`}
  <//>`;
}

function Record({ r, onSaved }) {
  const rows = [
    ['Log id', html`<code>${r.id}</code>`],
    r.event_id && ['Event id', html`<code>${r.event_id}</code>`],
    ['Received', dateTime(r.created_at)],
    ['Status', html`<${Badge} kind=${statusKind(r.status, r.error)}>${r.status}<//>${r.error ? ' ' + r.error : ''}`],
    ['Endpoint', `${r.method} ${r.path} (${r.ingress}, ${r.kind}${r.stream ? ', streamed' : ''})`],
    ['Model', r.model || '—'],
    ['Served by', r.provider ? `${r.provider} / ${r.served_model || r.model}` : '—'],
    r.route && ['Route', html`<code>${r.route}</code>`],
    ['Fallback step', `${r.step}${r.step ? ' (a fallback target served it)' : ' (first target)'} · ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`],
    ['Key', r.key_name ? `${r.key_name} (${r.key_id})` : r.key_id || '—'],
    r.tenant && ['Tenant', r.tenant],
    r.user && ['User', r.user],
    ['Tokens', `${int(r.input_tokens)} in (${int(r.cached_tokens)} cached) · ${int(r.output_tokens)} out${r.tokens_estimated ? ' · estimated' : ''}`],
    ['Cost', usd(r.cost_usd)],
    ['Cache', r.cache_status || '—'],
    r.client_ip && ['Client IP', r.client_ip],
  ].filter(Boolean);
  return html`<div class="record">
    <dl class="kv">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
    <${Timings} r=${r} />
    ${r.metadata && Object.keys(r.metadata).length > 0 &&
    html`<h3>Metadata</h3><dl class="kv">${Object.entries(r.metadata).map(([k, v]) => html`<dt>${k}</dt><dd><code>${String(v)}</code></dd>`)}</dl>`}
    <${Feedback} r=${r} onSaved=${onSaved} />
    <h3>Request body</h3>
    ${r.request_body ? html`<pre class="body" tabindex="0" aria-label="Request body">${pretty(r.request_body)}</pre>` : html`<p class="muted">Not stored (payload collection off for this request).</p>`}
    <h3>Response body</h3>
    ${r.response_body ? html`<pre class="body" tabindex="0" aria-label="Response body">${pretty(r.response_body)}</pre>` : html`<p class="muted">Not stored.</p>`}
    ${r.payload_truncated && html`<p class="muted">The stored bodies were cut at the configured size limit.</p>`}
  </div>`;
}

/** Timings draws total latency with the time to first token and the
 * provider's share marked. */
function Timings({ r }) {
  const total = Math.max(r.duration_ms, 1);
  const bar = (v, cls, lbl) =>
    v == null ? null : html`<div class=${'tbar ' + cls} role="presentation"><span style=${{ width: Math.min(100, (v / total) * 100) + '%' }}></span><em>${lbl}: ${ms(v)}</em></div>`;
  return html`<h3>Timings</h3>
    <div class="timings" role="img" aria-label=${`Total ${ms(r.duration_ms)}, time to first token ${ms(r.ttft_ms)}, at the provider ${ms(r.upstream_ms)}`}>
      ${bar(r.duration_ms, 'total', 'Total')}
      ${bar(r.ttft_ms, 'ttft', 'Time to first token')}
      ${bar(r.upstream_ms, 'upstream', 'At the provider')}
    </div>`;
}

function Feedback({ r, onSaved }) {
  const [score, setScore] = useState(r.score ?? '');
  const [comment, setComment] = useState(r.comment || '');
  const [status, setStatus] = useState({ busy: false, msg: '', error: '' });
  async function send(body) {
    setStatus({ busy: true, msg: '', error: '' });
    try {
      await api('/logs/' + encodeURIComponent(r.id) + '/feedback', { method: 'POST', body });
      setStatus({ busy: false, msg: 'Feedback saved.', error: '' });
      onSaved();
    } catch (e) {
      setStatus({ busy: false, msg: '', error: e.message });
    }
  }
  const thumb = (v, label) =>
    html`<button type="button" class="thumb" aria-pressed=${r.feedback === v ? 'true' : 'false'} disabled=${status.busy}
      onClick=${() => send({ feedback: r.feedback === v ? 0 : v })}><${Thumb} down=${v < 0} /> ${label}</button>`;
  return html`<section class="feedback" aria-labelledby="fb-title">
    <h3 id="fb-title">Feedback</h3>
    <div class="row">${thumb(1, 'Good')}${thumb(-1, 'Bad')}</div>
    <form class="row" onSubmit=${(e) => {
      e.preventDefault();
      const body = { comment };
      if (score !== '') body.score = Number(score);
      send(body);
    }}>
      <label>Score (0–100) <input type="number" name="score" min="0" max="100" step="1" value=${score} onInput=${(e) => setScore(e.currentTarget.value)} /></label>
      <label class="grow">Comment <input name="comment" maxlength="4096" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)} /></label>
      <button type="submit" disabled=${status.busy}>Save</button>
    </form>
    <p role="status" class=${status.error ? 'form-error' : 'ok'}>${status.error || status.msg}</p>
  </section>`;
}
