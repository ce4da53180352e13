// Building blocks shared by the views: htm bound to Preact, the loading /
// empty / error states, a data-loading hook, charts, and modal dialogs.
import { h } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import {
  Chart as ChartJS,
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

export const html = htm.bind(h);

ChartJS.register(BarController, BarElement, CategoryScale, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

/**
 * useLoad runs load(signal) when deps change (and on reload()), keeping
 * the previous data while a reload runs so charts do not flash.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: undefined, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load(ac.signal).then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => {
        if (!live || error.name === 'AbortError') return;
        setState({ loading: false, data: undefined, error });
      },
    );
    return () => {
      live = false;
      ac.abort();
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export const Loading = ({ label = 'Loading…' }) =>
  html`<div class="state loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${label}</div>`;

export const Empty = ({ children }) => html`<div class="state empty" role="status">${children}</div>`;

/** ErrorBox shows a failed call; a missing feature is said plainly. */
export function ErrorBox({ error, what, onRetry }) {
  if (error?.unavailable) {
    return html`<div class="state unavailable" role="status">
      <strong>${what} not available.</strong> This gateway's admin API does not offer it (${error.message}).
    </div>`;
  }
  return html`<div class="state error" role="alert">
    <strong>Could not load ${what}.</strong> ${error?.message || String(error)}
    ${onRetry && html` <button type="button" class="link" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

/** Section is a titled card. */
export const Section = ({ title, actions, children, id, class: cls }) => html`
  <section class=${'card ' + (cls || '')} aria-labelledby=${id}>
    <header class="card-head">
      <h2 id=${id}>${title}</h2>
      ${actions && html`<div class="card-actions">${actions}</div>`}
    </header>
    ${children}
  </section>
`;

const palette = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ca8a04', '#64748b'];
export const color = (i) => palette[i % palette.length];

/**
 * Chart draws a Chart.js chart. summary is read by screen readers (and the
 * browser tests read data-total: the sum of every plotted value).
 */
export function Chart({ config, summary, name, height = 220 }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current) return undefined;
    const c = new ChartJS(ref.current, config);
    return () => c.destroy();
  }, [config]);
  let total = 0;
  for (const ds of config.data.datasets) {
    for (const p of ds.data) {
      const v = typeof p === 'object' && p !== null ? p.y : p;
      if (typeof v === 'number' && Number.isFinite(v)) total += v;
    }
  }
  return html`<figure class="chart" data-chart=${name} data-total=${String(Math.round(total * 1e6) / 1e6)}
    data-series=${config.data.datasets.length}>
    <div class="chart-box" style=${{ height: height + 'px' }}>
      <canvas ref=${ref} role="img" aria-label=${summary}></canvas>
    </div>
  </figure>`;
}

/**
 * Dialog is a modal <dialog>: it traps focus, closes on Escape, and gives
 * focus back to what opened it.
 */
export function Dialog({ open, title, onClose, children, id }) {
  const ref = useRef(null);
  // The close event also fires, a task later, when the dialog closes
  // because open became false: only a close the browser made itself
  // (while open is still true) is reported, so onClose runs once.
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby=${id + '-title'}
    onClose=${() => openRef.current && onClose()}
    onCancel=${(e) => { e.preventDefault(); onClose(); }}>
    ${open && html`<div class="dialog-body">
      <header class="dialog-head">
        <h2 id=${id + '-title'}>${title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick=${onClose}>×</button>
      </header>
      ${children}
    </div>`}
  </dialog>`;
}

/** Confirm asks before a destructive action. */
export function Confirm({ open, title, message, confirmLabel, onConfirm, onClose, busy, error }) {
  return html`<${Dialog} open=${open} title=${title} onClose=${onClose} id="confirm">
    <p>${message}</p>
    ${error && html`<p class="form-error" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" onClick=${onClose}>Cancel</button>
      <button type="button" class="danger" disabled=${busy} onClick=${onConfirm}>${busy ? 'Working…' : confirmLabel}</button>
    </div>
  <//>`;
}

/** Thumb is a thumbs-up icon (down when down is set); emoji fonts are not
 * on every machine, so it is drawn. */
export const Thumb = ({ down }) => html`<svg class="icon-svg" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false"
    style=${down ? { transform: 'rotate(180deg)' } : undefined}>
  <path fill="currentColor" d="M2 10h4v11H2zM8 21h9.2a2 2 0 0 0 2-1.6l1.6-7A2 2 0 0 0 18.8 10H14l.9-4.3a1.8 1.8 0 0 0-3.1-1.6L8 9.5z" />
</svg>`;

export const Badge = ({ kind, children }) => html`<span class=${'badge ' + (kind || '')}>${children}</span>`;

/** statusKind maps an HTTP status to a badge colour. */
export const statusKind = (s, err) => (err || s >= 500 ? 'bad' : s >= 400 ? 'warn' : 'good');
