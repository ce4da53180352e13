// End-to-end test of the dashboard in Debian's headless Chromium, driven by
// playwright-core, against a real gateway that the caller started with a
// fake provider behind it. test/e2e/dashboard_test.go starts both and runs
// this file (go test ./test/e2e -run Dashboard); by hand:
//
//   GATEWAY_URL=http://127.0.0.1:8080 ADMIN_TOKEN=… node --test e2e/
//
// Environment: GATEWAY_URL and ADMIN_TOKEN (required); CHROMIUM (default
// /usr/bin/chromium); RESULTS_DIR for failure screenshots (default
// web/test-results); SCREENSHOT_DIR, when set, receives the README's
// screenshots (dashboard-overview.png, dashboard-logs.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const gw = process.env.GATEWAY_URL;
const adminToken = process.env.ADMIN_TOKEN;
if (!gw || !adminToken) throw new Error('set GATEWAY_URL and ADMIN_TOKEN');
const resultsDir = process.env.RESULTS_DIR || fileURLToPath(new URL('../test-results', import.meta.url));
const shotDir = process.env.SCREENSHOT_DIR;
const run = Date.now().toString(36); // tells this run's records from others'

let browser, context, page, profile;
const problems = []; // console errors, page errors, failed requests
let expectProblems = false;

/** admin calls the admin API directly, to check what the UI did. */
async function admin(path, init = {}) {
  const res = await fetch(gw + '/admin/v1' + path, { ...init, headers: { Authorization: 'Bearer ' + adminToken, ...(init.headers || {}) } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// required names the features that must be there (DASHBOARD_REQUIRE,
// comma-separated): a missing one fails its step instead of skipping it.
const required = new Set((process.env.DASHBOARD_REQUIRE || '').split(',').filter(Boolean));

// featurePaths tell which admin feature a request URL belongs to.
const featurePaths = {
  analytics: /\/admin\/v1\/analytics/,
  logs: /\/admin\/v1\/logs/,
  keys: /\/admin\/v1\/keys/,
  cache: /\/admin\/v1\/cache/,
};
const absent = new Set(); // features the gateway turned out not to have

/**
 * available says whether the gateway offers an admin feature (a 404
 * unknown_endpoint says it does not); it throws for a required one.
 */
async function available(feature, path) {
  const r = await admin(path);
  const there = !(r.status === 404 && ['unknown_endpoint', 'cache_unavailable'].includes(r.body?.error?.code));
  if (!there && required.has(feature)) throw new Error(`the gateway lacks ${feature} (${path}), which DASHBOARD_REQUIRE lists`);
  if (!there) absent.add(feature);
  return there;
}

// trafficKey is a gateway key the test's traffic is sent with, when the
// gateway manages keys: once a key exists the gateway may require one.
let trafficKey = '';

async function chat(model, text, { headers = {}, stream = false } = {}) {
  const res = await fetch(gw + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(trafficKey ? { Authorization: 'Bearer ' + trafficKey } : {}), ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: text }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }),
  });
  await res.text();
  return res;
}

/** curl sends one chat request with a gateway key, as a user would. */
async function curl(key) {
  const { stdout } = await promisify(execFile)('curl', [
    '-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: Bearer ' + key, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'key check ' + run }] }),
    gw + '/v1/chat/completions',
  ]);
  return Number(stdout);
}

/** step runs one part of the scenario; on failure the page is saved. */
function step(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, name.replace(/[^a-z0-9]+/gi, '-') + '.png');
      await page?.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`screenshot of the failure: ${file}`);
      throw e;
    }
  });
}

async function shot(name) {
  if (!shotDir) return;
  mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: join(shotDir, name) });
}

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'aigateway-chromium-'));
  // launchPersistentContext gives Chromium a fresh --user-data-dir.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic',
    ],
    viewport: { width: 1366, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
    colorScheme: 'light',
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on('console', (m) => {
    if (m.type() !== 'error' || expectProblems) return;
    const url = m.location()?.url || '';
    // A gateway without a feature answers its admin routes with 404; the
    // browser reports each as an error. Those of absent (and not
    // required) features are expected; any other is a fault.
    const feature = Object.entries(featurePaths).find(([, re]) => re.test(url))?.[0];
    if (feature && absent.has(feature)) return;
    problems.push(`console: ${m.text()} ${url}`);
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // Requests cut short by navigation or an aborted poll are no fault.
    if (!/ERR_ABORTED/.test(r.failure()?.errorText || '')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

step('sign in with the admin token', async () => {
  // Learn up front which features this gateway has (see the console check).
  for (const [f, p] of [['analytics', '/analytics'], ['logs', '/logs?limit=1'], ['keys', '/keys'], ['cache', '/cache']]) await available(f, p);
  if (!absent.has('keys')) {
    const k = await admin('/keys', { method: 'POST', body: JSON.stringify({ name: 'traffic-' + run, tenant: 'acme' }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(k.status, 201, JSON.stringify(k.body));
    trafficKey = k.body.secret;
  }
  await page.goto(gw + '/ui/');
  await page.getByLabel('Admin token').fill('not-the-token');
  expectProblems = true; // the browser reports the refused check as an error
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  expectProblems = false;
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByLabel('Admin token').press('Enter');
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('aigateway.admin-token')), adminToken);
});

const logsLanded = () => available('logs', '/logs?limit=1');

step('overview charts reflect the traffic the test sends', async (t) => {
  if (!(await available('analytics', '/analytics'))) return t.skip('the gateway has no /admin/v1/analytics');
  const before = (await admin('/analytics?since=1h')).body.data[0]?.requests || 0;
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await chat('openai/gpt-4o-mini', `hello ${i} ${run}`, { headers: { 'x-aig-metadata': JSON.stringify({ run, n: i }) } }));
  sent.push(await chat('openai/gpt-4o-mini', `streamed ${run}`, { stream: true, headers: { 'x-aig-metadata': JSON.stringify({ run }) } }));
  sent.push(await chat('openai/error-500', `fails ${run}`, { headers: { 'x-aig-metadata': JSON.stringify({ run }) } }));
  // The same request twice with caching on: a miss, then a hit.
  const cached = { headers: { 'x-aig-cache-ttl': '600', 'x-aig-metadata': JSON.stringify({ run }) } };
  sent.push(await chat('openai/gpt-4o-mini', `cache me ${run}`, cached));
  sent.push(await chat('openai/gpt-4o-mini', `cache me ${run}`, cached));
  assert.deepEqual(sent.map((r) => r.status), [200, 200, 200, 200, 200, 200, 500, 200, 200]);
  assert.equal(sent.at(-1).headers.get('x-aig-cache-status'), 'HIT');
  const want = before + sent.length;
  // The log writer is asynchronous: wait until the API counts them all.
  for (let i = 0; i < 50 && ((await admin('/analytics?since=1h')).body.data[0]?.requests || 0) < want; i++) await new Promise((r) => setTimeout(r, 200));

  await page.goto(gw + '/ui/#/overview?range=1h');
  await page.reload(); // a fresh load, not a hash change on the signed-in page
  const requests = page.locator('[aria-busy="false"] [data-chart="requests"]');
  await requests.waitFor();
  assert.equal(Number(await requests.getAttribute('data-total')), want, 'the requests chart adds up to every request sent');
  assert.equal(await page.locator('[data-tile="Requests"]').textContent(), String(want));
  const errorRate = Number(await page.locator('[data-chart="error-rate"]').getAttribute('data-total'));
  assert.ok(errorRate > 0, 'the error-rate chart shows the failed request');
  assert.ok(Number(await page.locator('[data-chart="tokens"]').getAttribute('data-total')) > 0, 'tokens are charted');
  assert.ok(Number(await page.locator('[data-chart="cache-hit-rate"]').getAttribute('data-total')) > 0, 'the cache hit is charted');
  for (const name of ['cost', 'cache-hit-rate', 'latency', 'ttft', 'top-models']) await page.locator(`[data-chart="${name}"] canvas`).waitFor();
  // Top keys name the key the traffic went through.
  if (trafficKey) await page.getByRole('img', { name: new RegExp('^Top keys by cost: .*traffic-' + run) }).waitFor();
  // Grouping by model splits the requests per model.
  await page.getByLabel('Group by').selectOption('model');
  await page.waitForFunction(() => location.hash.includes('group=model'));
  // Two models served: gpt-4o-mini and the failing one.
  const grouped = page.locator('[aria-busy="false"] [data-chart="requests"][data-series="2"]');
  await grouped.waitFor();
  assert.equal(Number(await grouped.getAttribute('data-total')), want);
  // A custom range covering the last day holds the same traffic.
  await page.getByLabel('Group by').selectOption('');
  await page.getByLabel('Time range', { exact: true }).selectOption('custom');
  await page.getByLabel('From').waitFor();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => location.hash.includes('range=custom') && !location.hash.includes('group='));
  await page.locator('[aria-busy="false"] [data-chart="requests"][data-series="1"]').waitFor();
  assert.equal(Number(await requests.getAttribute('data-total')), want);
  await page.getByLabel('Time range', { exact: true }).selectOption('1h');
  await page.waitForFunction(() => location.hash.includes('range=1h'));
  await page.locator('[aria-busy="false"] [data-tile="Requests"]').waitFor();
  await shot('dashboard-overview.png');
});

let logId;
step('filter the logs to one request and open it', async (t) => {
  if (!(await logsLanded())) return t.skip('the gateway has no /admin/v1/logs');
  const res = await chat('openai/gpt-4o-mini', `find me ${run}`, { headers: { 'x-aig-event-id': 'evt-' + run, 'x-aig-metadata': JSON.stringify({ run }) } });
  assert.equal(res.status, 200);
  logId = res.headers.get('x-aig-log-id');
  assert.ok(logId, 'the gateway answered with x-aig-log-id');
  for (let i = 0; i < 50 && (await admin('/logs/' + logId)).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));

  // This run's requests, the failed one among them.
  await page.goto(gw + `/ui/#/logs?since=1h&meta=run%3D${run}`);
  await page.locator('[aria-busy="false"] table.logs').waitFor();
  await page.locator('table.logs tbody tr').filter({ hasText: '500' }).first().waitFor();
  await shot('dashboard-logs.png');
  // A filter that matches nothing says so; a malformed one says why.
  await page.getByLabel('Metadata').fill('run=none-' + run);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('status').filter({ hasText: 'No requests match these filters.' }).waitFor();
  await page.getByLabel('Metadata').fill('no equals sign');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('alert').filter({ hasText: 'key=value' }).waitFor();
  await page.getByLabel('Metadata').fill('');
  await page.getByLabel('Event id').fill('evt-' + run);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.logs tbody tr').length === 1);
  const row = page.locator('table.logs tbody tr');
  assert.equal(await row.getAttribute('data-log-id'), logId);
  await row.getByRole('link').click();
  const dialog = page.getByRole('dialog', { name: 'Request' });
  await dialog.getByText(logId).waitFor();
  await dialog.getByLabel('Request body').filter({ hasText: `find me ${run}` }).waitFor();
  await dialog.getByLabel('Response body').filter({ hasText: `Hello from fake: find me ${run}` }).waitFor();
  await dialog.getByText('Fallback step').waitFor();
  await shot('dashboard-log-detail.png');
});

step('give feedback on the request', async (t) => {
  if (!logId) return t.skip('no request was opened');
  const dialog = page.getByRole('dialog', { name: 'Request' });
  await dialog.getByRole('button', { name: 'Good' }).click();
  await dialog.getByText('Feedback saved.').waitFor();
  await dialog.getByRole('button', { name: 'Good', pressed: true }).waitFor();
  await dialog.getByLabel('Score (0–100)').fill('80');
  await dialog.getByLabel('Comment').fill('from the browser test');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText('Feedback saved.').waitFor();
  const rec = (await admin('/logs/' + logId)).body;
  assert.equal(rec.feedback, 1);
  assert.equal(rec.score, 80);
  assert.equal(rec.comment, 'from the browser test');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(!page.url().includes(logId), 'closing the request goes back to the list');
});

step('live tail shows a new request without a reload', async (t) => {
  if (!(await logsLanded())) return t.skip('the gateway has no /admin/v1/logs');
  await page.goto(gw + `/ui/#/logs?since=1h&meta=run%3D${run}`);
  await page.getByRole('table').waitFor();
  const count = await page.locator('table.logs tbody tr').count();
  await page.getByLabel('Live tail').check();
  const res = await chat('openai/gpt-4o-mini', `tail ${run}`, { headers: { 'x-aig-metadata': JSON.stringify({ run }) } });
  const id = res.headers.get('x-aig-log-id');
  await page.locator(`tr[data-log-id="${id}"]`).waitFor({ timeout: 20000 });
  assert.ok((await page.locator('table.logs tbody tr').count()) > count);
  await page.getByLabel('Live tail').uncheck();
});

step('create a key, use it with curl, revoke it and see it refused', async (t) => {
  if (!(await available('keys', '/keys'))) return t.skip('the gateway has no /admin/v1/keys');
  await page.goto(gw + '/ui/#/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  const form = page.getByRole('dialog', { name: 'Create key' });
  await form.getByLabel('Name').fill('browser-' + run);
  await form.getByLabel('Requests / minute').fill('600');
  await form.getByLabel('Budget (USD)').fill('5');
  await form.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByRole('dialog', { name: 'Key created' });
  const secret = (await shown.locator('#new-secret').textContent()).trim();
  assert.ok(secret.length > 20, 'a secret is shown');
  await shown.getByRole('button', { name: 'Copy' }).click();
  await shown.getByText('Copied to the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await shown.getByRole('button', { name: 'Done' }).click();
  const row = page.locator(`tr[data-key-name="browser-${run}"]`);
  await row.getByText('active').waitFor();
  await row.getByRole('meter').waitFor();
  // The key the test's traffic went through shows that usage.
  const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1)).toISOString();
  const trafficRow = page.locator(`tr[data-key-name="traffic-${run}"]`);
  const trafficId = await trafficRow.getAttribute('data-key-id');
  const usage = (await admin('/analytics?group_by=key&since=' + monthStart)).body.data.find((r) => r.group === trafficId);
  assert.ok(usage?.requests > 0);
  await trafficRow.getByText(`${usage.requests} req`).waitFor();

  // Edit its limits and scopes.
  await row.getByRole('button', { name: 'Edit browser-' + run }).click();
  const edit = page.getByRole('dialog', { name: 'Edit key browser-' + run });
  await edit.getByLabel('Tokens / minute').fill('100000');
  await edit.getByLabel('Models allowed').fill('openai/*');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await edit.waitFor({ state: 'hidden' });
  await row.getByText('models: openai/*').waitFor();
  const id = await row.getAttribute('data-key-id');
  const view = (await admin('/keys/' + id)).body;
  assert.equal(view.rpm, 600);
  assert.equal(view.tpm, 100000);
  assert.deepEqual(view.models, ['openai/*']);
  assert.equal(view.budget_usd, 5);
  await shot('dashboard-keys.png');

  assert.equal(await curl(secret), 200, 'the new key is accepted');

  await row.getByRole('button', { name: 'Revoke browser-' + run }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke key' });
  await confirm.getByRole('button', { name: 'Revoke key' }).click();
  await confirm.waitFor({ state: 'hidden' });
  await row.waitFor({ state: 'detached' });
  assert.equal(await curl(secret), 401, 'the revoked key is refused');
});

step('providers, deployment health and routes', async () => {
  for (const [f, p] of [['providers', '/providers'], ['health', '/providers/health'], ['config', '/config']]) assert.ok(await available(f, p));
  // Routing reports a deployment once it has served a call.
  assert.equal((await chat('openai/gpt-4o-mini', 'health ' + run)).status, 200);
  await page.goto(gw + '/ui/#/providers');
  await page.locator('[data-provider="openai"]').waitFor();
  const dep = page.locator('tr[data-deployment="openai/gpt-4o-mini"]');
  await dep.waitFor();
  await dep.getByText('closed').waitFor();
  await page.getByRole('heading', { name: 'Model aliases' }).waitFor();
  // The alias and route of the test's config, read-only.
  await page.getByRole('rowheader', { name: 'fast' }).waitFor();
  await page.locator('section[aria-labelledby="aliases"]').getByText('openai/gpt-4o-mini').waitFor();
  const route = page.locator('section[aria-labelledby="routes"] details');
  await route.locator('summary').filter({ hasText: 'assistant' }).click();
  await route.locator('pre').filter({ hasText: '"model": "fast"' }).waitFor();
});

step('cache figures and purge', async (t) => {
  if (!(await available('cache', '/cache'))) return t.skip('the gateway has no /admin/v1/cache');
  const body = { headers: { 'x-aig-cache-ttl': '600' } };
  await chat('openai/gpt-4o-mini', `purge me ${run}`, body);
  assert.equal((await chat('openai/gpt-4o-mini', `purge me ${run}`, body)).headers.get('x-aig-cache-status'), 'HIT');
  const figures = (await admin('/cache')).body;
  assert.ok(figures.entries > 0);
  await page.goto(gw + '/ui/#/providers');
  await page.reload();
  assert.equal(await page.locator('[data-tile="cache-hit-rate"]').textContent(), Math.round(figures.hit_rate * 100) + '%');
  assert.equal(await page.locator('[data-tile="cache-entries"]').textContent(), String(figures.entries));
  assert.equal(Number(await page.locator('[data-chart="cache"]').getAttribute('data-total')), figures.hits + figures.semantic_hits + figures.misses + figures.bypasses);
  await page.getByRole('button', { name: 'Purge cache' }).click();
  const confirm = page.getByRole('dialog', { name: 'Purge the cache' });
  await confirm.getByRole('button', { name: 'Purge everything' }).click();
  await page.getByText(`Purged ${figures.entries} entries.`).waitFor();
  await page.locator('[data-tile="cache-entries"]').filter({ hasText: /^0$/ }).waitFor();
  assert.equal((await chat('openai/gpt-4o-mini', `purge me ${run}`, body)).headers.get('x-aig-cache-status'), 'MISS', 'the purged entry is gone');
});

step('keyboard: skip link, navigation and dialogs without a mouse', async () => {
  await page.goto(gw + '/ui/#/overview');
  await page.reload(); // focus starts at the top of a fresh page
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Logs');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.startsWith('#/logs'));
  // A new page moves focus to its content (once it has rendered).
  await page.waitForFunction(() => document.activeElement?.id === 'main');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'since', 'the next stop is the first filter');
  const visible = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return s.outlineStyle !== 'none' && s.outlineWidth !== '0px';
  });
  assert.ok(visible, 'the focused element shows a focus ring');
});

step('phone width: no sideways scrolling, navigation reachable', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const view of ['overview', 'logs', 'keys', 'providers']) {
    await page.goto(gw + '/ui/#/' + view);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${view} scrolls sideways by ${overflow}px at phone width`);
    await page.getByRole('link', { name: 'Keys' }).waitFor();
  }
  // The log filters fold away on a phone and open on demand.
  await page.goto(gw + '/ui/#/logs');
  await page.getByLabel('Event id').waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Filters' }).click();
  await page.getByLabel('Event id').waitFor();
  await page.setViewportSize({ width: 1366, height: 900 });
});

step('sign out forgets the token', async () => {
  await page.goto(gw + '/ui/#/overview');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('aigateway.admin-token')), null);
});

step('no console errors, page errors or failed requests', async () => {
  assert.deepEqual(problems, []);
});
