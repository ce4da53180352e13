// Providers and routes: enabled providers, each upstream deployment's
// health as routing sees it, model aliases and routes (read-only, from the
// redacted config), and the response cache with a purge action.
// Data: /admin/v1/providers, /providers/health, /config, /cache.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, useLoad, Loading, Empty, ErrorBox, Section, Confirm, Badge, Chart, color } from '../ui.js';
import { int, num, pct, ms, bytes, dateTime } from '../format.js';

export function Providers() {
  return html`
    <div class="page-head"><h1>Providers & routes</h1></div>
    <${Health} />
    <div class="grid two">
      <${ProviderList} />
      <${Cache} />
    </div>
    <${Config} />
  `;
}

function ProviderList() {
  const data = useLoad((signal) => api('/providers', { signal }), []);
  return html`<${Section} title="Providers" id="providers">
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="providers" onRetry=${data.reload} />`
      : !data.data
        ? html`<${Loading} />`
        : !data.data.data?.length
          ? html`<${Empty}>No provider is enabled. Set a provider's credentials in the environment or list it under providers: in the config.<//>`
          : html`<ul class="plain providers">${data.data.data.map(
              (p) => html`<li data-provider=${p.id}>
                <strong>${p.id}</strong> <${Badge}>${p.type}<//>
                <div class="muted mono">${p.base_url || 'default base URL'}</div>
                ${p.models?.length ? html`<div class="muted">models: ${p.models.join(', ')}</div>` : ''}
              </li>`,
            )}</ul>`}
  <//>`;
}

const stateKind = { closed: 'good', half_open: 'warn', open: 'bad' };

function Health() {
  const data = useLoad((signal) => api('/providers/health', { signal }), []);
  useEffect(() => {
    const t = setInterval(data.reload, 10000);
    return () => clearInterval(t);
  }, []);
  const rows = data.data?.data;
  return html`<${Section} title="Deployment health" id="health" actions=${html`<button type="button" onClick=${data.reload}>Refresh</button>`}>
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="provider health" onRetry=${data.reload} />`
      : !rows
        ? html`<${Loading} />`
        : !rows.length
          ? html`<${Empty}>No deployment has served a request yet: health appears after the first call through the router.<//>`
          : html`<div class="table-wrap"><table>
              <thead><tr>
                <th scope="col">Deployment</th><th scope="col">Circuit</th><th scope="col" class="num">Recent error rate</th>
                <th scope="col" class="num">Latency</th><th scope="col" class="num">First event</th><th scope="col" class="num">In flight</th>
                <th scope="col" class="num">Req / min</th><th scope="col" class="num">Tokens / min</th>
              </tr></thead>
              <tbody>${rows.map(
                (d) => html`<tr data-deployment=${d.deployment}>
                  <th scope="row"><span class="mono">${d.deployment}</span>${d.provider ? html`<div class="muted">${d.provider}${d.model ? ' / ' + d.model : ''}</div>` : ''}</th>
                  <td><${Badge} kind=${stateKind[d.state]}>${d.state.replace('_', ' ')}<//>
                    ${d.retry_at ? html`<div class="muted">retry ${dateTime(d.retry_at)}</div>` : ''}
                    ${d.consecutive_failures ? html`<div class="muted">${d.consecutive_failures} failures in a row</div>` : ''}</td>
                  <td class="num">${d.requests ? pct(d.failures / d.requests) : '—'}<div class="muted">${int(d.failures)} of ${int(d.requests)}</div></td>
                  <td class="num">${ms(d.latency_ms)}</td>
                  <td class="num">${ms(d.first_event_ms)}</td>
                  <td class="num">${int(d.in_flight)}</td>
                  <td class="num">${num(d.requests_per_minute)}${d.rpm ? html`<div class="muted">limit ${int(d.rpm)}</div>` : ''}</td>
                  <td class="num">${num(d.tokens_per_minute)}${d.tpm ? html`<div class="muted">limit ${num(d.tpm)}</div>` : ''}</td>
                </tr>`,
              )}</tbody>
            </table></div>`}
  <//>`;
}

function Cache() {
  const data = useLoad((signal) => api('/cache', { signal }), []);
  const [confirm, setConfirm] = useState(false);
  const [purge, setPurge] = useState({ busy: false, error: '', msg: '' });
  async function doPurge() {
    setPurge({ busy: true, error: '', msg: '' });
    try {
      const res = await api('/cache/purge', { method: 'POST', body: { all: true } });
      setPurge({ busy: false, error: '', msg: `Purged ${int(res.purged)} entries.` });
      setConfirm(false);
      data.reload();
    } catch (e) {
      setPurge({ busy: false, error: e.message, msg: '' });
    }
  }
  const c = data.data;
  const config = useMemo(() => {
    if (!c) return null;
    const hits = (c.hits || 0) + (c.semantic_hits || 0);
    return {
      type: 'bar',
      data: {
        labels: ['Lookups'],
        datasets: [
          { label: 'Hits', data: [c.hits || 0], backgroundColor: color(1) },
          { label: 'Semantic hits', data: [c.semantic_hits || 0], backgroundColor: color(4) },
          { label: 'Misses', data: [c.misses || 0], backgroundColor: color(2) },
          { label: 'Bypassed', data: [c.bypasses || 0], backgroundColor: color(8) },
        ],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true, display: false } },
      },
      hits,
    };
  }, [c]);
  return html`<${Section} title="Response cache" id="cache" actions=${c && html`<button type="button" class="danger" onClick=${() => { setPurge({ busy: false, error: '', msg: '' }); setConfirm(true); }}>Purge cache</button>`}>
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="cache figures" onRetry=${data.reload} />`
      : !c
        ? html`<${Loading} />`
        : html`<dl class="tiles small">
              <div class="tile"><dt>Hit rate</dt><dd data-tile="cache-hit-rate">${pct(c.hit_rate)}</dd></div>
              <div class="tile"><dt>Entries</dt><dd data-tile="cache-entries">${int(c.entries)}</dd></div>
              <div class="tile"><dt>Size</dt><dd>${bytes(c.bytes)}${c.max_bytes ? html`<span class="muted"> of ${bytes(c.max_bytes)}</span>` : ''}</dd></div>
              <div class="tile"><dt>Backend</dt><dd>${c.backend || '—'}</dd></div>
            </dl>
            <${Chart} name="cache" config=${config} height=${110}
              summary=${`Cache lookups: ${int(c.hits)} hits, ${int(c.semantic_hits)} semantic hits, ${int(c.misses)} misses, ${int(c.bypasses)} bypassed`} />
            <p role="status" class="ok">${purge.msg}</p>`}
    <${Confirm} open=${confirm} title="Purge the cache" confirmLabel="Purge everything" busy=${purge.busy} error=${purge.error}
      message="Delete every cached response, for every tenant? The next identical requests go to the providers again."
      onConfirm=${doPurge} onClose=${() => setConfirm(false)} />
  <//>`;
}

function Config() {
  const data = useLoad((signal) => api('/config', { signal }), []);
  const cfg = data.data;
  if (data.error) return html`<${Section} title="Aliases and routes" id="routes"><${ErrorBox} error=${data.error} what="the configuration" onRetry=${data.reload} /><//>`;
  if (!cfg) return html`<${Section} title="Aliases and routes" id="routes"><${Loading} /><//>`;
  const aliases = cfg.models || [];
  const routes = cfg.routes || [];
  return html`
    <${Section} title="Model aliases" id="aliases">
      ${aliases.length
        ? html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Alias</th><th scope="col">Strategy</th><th scope="col">Targets</th><th scope="col">Fallback on</th></tr></thead>
            <tbody>${aliases.map(
              (a) => html`<tr>
                <th scope="row" class="mono">${a.name}</th>
                <td>${a.strategy || 'fallback'}</td>
                <td><ol class="targets">${(a.targets || []).map(
                  (t) => html`<li><span class="mono">${t.model}</span>${t.weight != null ? html` <span class="muted">weight ${t.weight}</span>` : ''}${t.rpm ? html` <span class="muted">${int(t.rpm)} rpm</span>` : ''}${t.name ? html` <span class="muted">(${t.name})</span>` : ''}</li>`,
                )}</ol></td>
                <td>${(a.fallback_on || []).join(', ') || html`<span class="muted">default</span>`}</td>
              </tr>`,
            )}</tbody>
          </table></div>`
        : html`<${Empty}>No model aliases configured (models: in the config).<//>`}
    <//>
    <${Section} title="Routes" id="routes">
      ${routes.length
        ? html`<ul class="plain routes">${routes.map(
            (r) => html`<li>
              <details>
                <summary><strong class="mono">${r.name}</strong>${r.match?.length ? html` <span class="muted">matches ${r.match.join(', ')}</span>` : ''}</summary>
                <pre class="body" tabindex="0">${JSON.stringify(r, null, 2)}</pre>
              </details>
            </li>`,
          )}</ul>`
        : html`<${Empty}>No routes configured (routes: in the config).<//>`}
    <//>
  `;
}
