// The dashboard app: sign-in, navigation and the hash router. Routes live
// in the URL fragment (#/logs?model=…) so the gateway serves one page and
// every view can be bookmarked or shared.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { api, clearToken, setToken, token } from './api.js';
import { html } from './ui.js';
import { Overview } from './views/overview.js';
import { Logs } from './views/logs.js';
import { Keys } from './views/keys.js';
import { Providers } from './views/providers.js';

/** parseHash splits "#/logs/ID?x=1" into ["logs","ID"] and its params. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p, q] = raw.split('?');
  return { parts: p.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q || '') };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

const pages = [
  { id: 'overview', label: 'Overview', view: Overview },
  { id: 'logs', label: 'Logs', view: Logs },
  { id: 'keys', label: 'Keys', view: Keys },
  { id: 'providers', label: 'Providers & routes', view: Providers },
];

function Login({ onSignedIn }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      // Any admin route checks the token; this one is the cheapest.
      await api('/providers', { auth: value.trim() });
      setToken(value.trim());
      onSignedIn();
    } catch (err) {
      setError(
        err.status === 401
          ? 'That token was not accepted.'
          : err.status === 403
            ? 'The admin API is disabled on this gateway: set AIGATEWAY_ADMIN_TOKEN or admin.token.'
            : err.message,
      );
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login" id="main">
    <form class="card login-card" onSubmit=${submit} aria-describedby="login-help">
      <h1>aigateway</h1>
      <p id="login-help">Sign in with the gateway's admin token (AIGATEWAY_ADMIN_TOKEN or admin.token). It is kept in this tab only.</p>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required value=${value}
        onInput=${(e) => setValue(e.currentTarget.value)} aria-invalid=${error ? 'true' : 'false'} />
      ${error && html`<p class="form-error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy || !value.trim()}>${busy ? 'Checking…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function App() {
  const [signedIn, setSignedIn] = useState(() => token() !== '');
  const route = useRoute();
  useEffect(() => {
    const out = () => {
      clearToken();
      setSignedIn(false);
    };
    window.addEventListener('aig:signed-out', out);
    return () => window.removeEventListener('aig:signed-out', out);
  }, []);
  const page = pages.find((p) => p.id === route.parts[0]) || pages[0];
  // A new page moves focus to its content, as a page load would, so
  // keyboard and screen-reader users start at the top of what changed.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
    document.title = page.label + ' · aigateway';
  }, [page.id]);
  if (!signedIn) return html`<${Login} onSignedIn=${() => setSignedIn(true)} />`;
  const View = page.view;
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="top">
      <div class="brand">aigateway</div>
      <nav aria-label="Sections">
        <ul>
          ${pages.map(
            (p) => html`<li><a href=${'#/' + p.id} aria-current=${p === page ? 'page' : undefined}>${p.label}</a></li>`,
          )}
        </ul>
      </nav>
      <button type="button" class="signout" onClick=${() => { clearToken(); setSignedIn(false); }}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <${View} parts=${route.parts.slice(1)} params=${route.params} />
    </main>
  `;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading…" placeholder
render(html`<${App} />`, root);
