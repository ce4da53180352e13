// Keys: every gateway key with its usage and spend against its budget;
// create (the secret is shown once), edit limits and scopes, revoke.
// Data: /admin/v1/keys; usage from /admin/v1/analytics grouped by key.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html, useLoad, Loading, Empty, ErrorBox, Dialog, Confirm, Badge } from '../ui.js';
import { int, num, usd, ago, dateTime } from '../format.js';

/** periodStart is when a budget period began (UTC calendar day/month). */
function periodStart(period, now = new Date()) {
  if (period === 'day') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

async function usageBy(since, signal) {
  const res = await api('/analytics', { params: { since: since.toISOString(), group_by: 'key' }, signal }).catch((e) => {
    if (e.name === 'AbortError') throw e;
    return null; // usage is extra: the key list stands without it
  });
  if (!res) return null;
  const m = {};
  for (const r of res.data || []) m[r.group] = r;
  return m;
}

export function Keys() {
  const [showRevoked, setShowRevoked] = useState(false);
  const data = useLoad(
    async (signal) => {
      const [keys, month, day] = await Promise.all([
        api('/keys', { params: { include_revoked: showRevoked }, signal }),
        usageBy(periodStart('month'), signal),
        usageBy(periodStart('day'), signal),
      ]);
      return { keys: keys.data || [], month, day };
    },
    [showRevoked],
  );
  const [editing, setEditing] = useState(null); // a key, or {} to create
  const [created, setCreated] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const [revokeState, setRevokeState] = useState({ busy: false, error: '' });

  async function revoke() {
    setRevokeState({ busy: true, error: '' });
    try {
      await api('/keys/' + encodeURIComponent(revoking.id), { method: 'DELETE' });
      setRevoking(null);
      setRevokeState({ busy: false, error: '' });
      data.reload();
    } catch (e) {
      setRevokeState({ busy: false, error: e.message });
    }
  }

  return html`
    <div class="page-head">
      <h1>Keys</h1>
      <div class="toolbar">
        <label class="toggle"><input type="checkbox" checked=${showRevoked} onChange=${(e) => setShowRevoked(e.currentTarget.checked)} /> Show revoked</label>
        <button type="button" class="primary" onClick=${() => setEditing({})}>Create key</button>
      </div>
    </div>
    ${data.error
      ? html`<${ErrorBox} error=${data.error} what="keys" onRetry=${data.reload} />`
      : !data.data
        ? html`<${Loading} label="Loading keys…" />`
        : !data.data.keys.length
          ? html`<${Empty}>No gateway keys yet. Create one to require keys on the unified API.<//>`
          : html`<div class="card table-wrap"><table class="keys cards">
              <thead><tr>
                <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Limits</th>
                <th scope="col">Usage this month</th><th scope="col">Spend / budget</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th>
              </tr></thead>
              <tbody>${data.data.keys.map((k) => html`<${KeyRow} k=${k} month=${data.data.month?.[k.id]} day=${data.data.day?.[k.id]} usageKnown=${!!data.data.month}
                onEdit=${() => setEditing(k)} onRevoke=${() => { setRevokeState({ busy: false, error: '' }); setRevoking(k); }} />`)}</tbody>
            </table></div>`}
    <${KeyForm} k=${editing} onClose=${() => setEditing(null)} onDone=${(res, isNew) => {
      setEditing(null);
      if (isNew) setCreated(res);
      data.reload();
    }} />
    <${SecretDialog} created=${created} onClose=${() => setCreated(null)} />
    <${Confirm} open=${!!revoking} title="Revoke key" confirmLabel="Revoke key" busy=${revokeState.busy} error=${revokeState.error}
      message=${revoking && `Revoke "${revoking.name}" (${revoking.prefix}…)? Requests with it are refused from now on. This cannot be undone.`}
      onConfirm=${revoke} onClose=${() => setRevoking(null)} />
  `;
}

function KeyRow({ k, month, day, usageKnown, onEdit, onRevoke }) {
  const usage = k.budget_period === 'day' ? day : month;
  const spent = usage?.cost_usd || 0;
  const share = k.budget_usd ? Math.min(1, spent / k.budget_usd) : 0;
  const kind = { active: 'good', disabled: 'warn', expired: 'warn', revoked: 'bad' }[k.status] || '';
  const scopes = [k.models?.length && 'models: ' + k.models.join(', '), k.providers?.length && 'providers: ' + k.providers.join(', ')].filter(Boolean);
  const limits = [k.rpm && int(k.rpm) + ' rpm', k.tpm && num(k.tpm) + ' tpm'].filter(Boolean);
  const readOnly = k.source === 'config' || k.status === 'revoked';
  return html`<tr data-key-id=${k.id} data-key-name=${k.name}>
    <th scope="row"><span class="key-name">${k.name}</span><br /><code class="muted">${k.prefix}…</code>${k.tenant ? html`<br /><span class="muted">tenant ${k.tenant}</span>` : ''}</th>
    <td data-label="Status"><${Badge} kind=${kind}>${k.status}<//>${k.source === 'config' ? html` <${Badge}>config<//>` : ''}</td>
    <td data-label="Scopes">${scopes.length ? scopes.map((s) => html`<div>${s}</div>`) : html`<span class="muted">all</span>`}</td>
    <td data-label="Limits">${limits.length ? limits.join(' · ') : html`<span class="muted">none</span>`}</td>
    <td data-label="Usage this month">${month ? `${int(month.requests)} req · ${num(month.input_tokens + month.output_tokens)} tok` : html`<span class="muted">${usageKnown ? 'none' : 'unknown (no analytics)'}</span>`}</td>
    <td data-label="Spend / budget">${k.budget_usd
      ? html`<div class="budget">
          <meter min="0" max="1" low="0.75" high="0.9" optimum="0" value=${share} aria-label=${`Spent ${usd(spent)} of ${usd(k.budget_usd)} this ${k.budget_period}`}></meter>
          <span>${usd(spent)} / ${usd(k.budget_usd)} per ${k.budget_period}</span></div>`
      : html`${usageKnown ? usd(spent) : '—'} <span class="muted">no budget</span>`}</td>
    <td data-label="Last used" title=${dateTime(k.last_used_at)}>${ago(k.last_used_at)}</td>
    <td class="actions">${readOnly ? html`<span class="muted">${k.source === 'config' ? 'edit in config' : ''}</span>` : html`
      <button type="button" onClick=${onEdit} aria-label=${'Edit ' + k.name}>Edit</button>
      <button type="button" class="danger" onClick=${onRevoke} aria-label=${'Revoke ' + k.name}>Revoke</button>`}</td>
  </tr>`;
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** KeyForm creates a key (k = {}) or edits one. */
function KeyForm({ k, onClose, onDone }) {
  const isNew = k && !k.id;
  const init = (k) => ({
    name: k?.name || '',
    tenant: k?.tenant || '',
    models: (k?.models || []).join(', '),
    providers: (k?.providers || []).join(', '),
    rpm: k?.rpm || '',
    tpm: k?.tpm || '',
    budget_usd: k?.budget_usd || '',
    budget_period: k?.budget_period || 'month',
    expires_at: k?.expires_at ? k.expires_at.slice(0, 10) : '',
    enabled: k?.enabled ?? true,
  });
  const [v, setV] = useState(init(k));
  const [last, setLast] = useState(k);
  const [state, setState] = useState({ busy: false, error: '' });
  if (k !== last) {
    setLast(k);
    setV(init(k));
    setState({ busy: false, error: '' });
  }
  const bind = (name) => ({ id: 'k-' + name, name, value: v[name], onInput: (e) => { const x = e.currentTarget.value; setV((d) => ({ ...d, [name]: x })); } });
  async function submit(e) {
    e.preventDefault();
    const body = {
      name: v.name.trim(),
      tenant: v.tenant.trim(),
      models: list(v.models),
      providers: list(v.providers),
      rpm: Number(v.rpm) || 0,
      tpm: Number(v.tpm) || 0,
      budget_usd: Number(v.budget_usd) || 0,
      enabled: v.enabled,
    };
    if (body.budget_usd) body.budget_period = v.budget_period;
    if (v.expires_at) body.expires_at = new Date(v.expires_at + 'T23:59:59Z').toISOString();
    else if (!isNew) body.expires_at = null;
    if (isNew) for (const f of ['tenant', 'models', 'providers', 'rpm', 'tpm', 'budget_usd']) if (!body[f] || body[f].length === 0) delete body[f];
    setState({ busy: true, error: '' });
    try {
      const res = isNew ? await api('/keys', { method: 'POST', body }) : await api('/keys/' + encodeURIComponent(k.id), { method: 'PATCH', body });
      setState({ busy: false, error: '' });
      onDone(res, isNew);
    } catch (err) {
      setState({ busy: false, error: err.message });
    }
  }
  return html`<${Dialog} open=${!!k} title=${isNew ? 'Create key' : 'Edit key ' + (k?.name || '')} onClose=${onClose} id="key-form">
    <form class="form" onSubmit=${submit}>
      <label for="k-name">Name <input required maxlength="128" ...${bind('name')} /></label>
      <label for="k-tenant">Tenant <input maxlength="128" ...${bind('tenant')} placeholder="optional" /></label>
      <label for="k-models">Models allowed <input ...${bind('models')} placeholder="all; or e.g. openai/*, gpt-4o-mini" /></label>
      <label for="k-providers">Providers allowed <input ...${bind('providers')} placeholder="all; or e.g. openai, anthropic" /></label>
      <div class="row">
        <label for="k-rpm">Requests / minute <input type="number" min="0" step="1" ...${bind('rpm')} placeholder="no limit" /></label>
        <label for="k-tpm">Tokens / minute <input type="number" min="0" step="1" ...${bind('tpm')} placeholder="no limit" /></label>
      </div>
      <div class="row">
        <label for="k-budget_usd">Budget (USD) <input type="number" min="0" step="0.01" ...${bind('budget_usd')} placeholder="none" /></label>
        <div class="field"><label for="k-budget_period">per</label>
          <select ...${bind('budget_period')} onChange=${(e) => { const x = e.currentTarget.value; setV((d) => ({ ...d, budget_period: x })); }}>
            <option value="month">month</option><option value="day">day</option>
          </select>
        </div>
      </div>
      <label for="k-expires_at">Expires <input type="date" ...${bind('expires_at')} /></label>
      <label class="toggle"><input type="checkbox" name="enabled" checked=${v.enabled} onChange=${(e) => { const x = e.currentTarget.checked; setV((d) => ({ ...d, enabled: x })); }} /> Enabled</label>
      ${state.error && html`<p class="form-error" role="alert">${state.error}</p>`}
      <div class="dialog-actions">
        <button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="primary" disabled=${state.busy}>${state.busy ? 'Saving…' : isNew ? 'Create key' : 'Save changes'}</button>
      </div>
    </form>
  <//>`;
}

/** SecretDialog shows a new key's secret, the only time it is shown. */
function SecretDialog({ created, onClose }) {
  const [copied, setCopied] = useState('');
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied('Copied to the clipboard.');
    } catch {
      // Without clipboard access (plain http on a LAN address), select the
      // text so the operator can copy it by hand.
      const el = document.getElementById('new-secret');
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  }
  return html`<${Dialog} open=${!!created} title="Key created" onClose=${() => { setCopied(''); onClose(); }} id="secret">
    ${created && html`<p>Copy the secret of <strong>${created.name}</strong> now: it is shown only this once and cannot be read back later.</p>
      <div class="secret-row"><code id="new-secret" class="secret">${created.secret}</code>
        <button type="button" class="primary" onClick=${copy}>Copy</button></div>
      <p role="status" class="ok">${copied}</p>
      <div class="dialog-actions"><button type="button" onClick=${() => { setCopied(''); onClose(); }}>Done</button></div>`}
  <//>`;
}
