// The admin API client: the dashboard's only data source. The admin token
// lives in sessionStorage (gone when the tab closes) and travels as a
// Bearer token; nothing else is stored.

const TOKEN_KEY = 'aigateway.admin-token';

/** ApiError is a failed admin API call, with the gateway's error fields. */
export class ApiError extends Error {
  constructor(status, message, type, code) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
  }
  /** unavailable says the gateway has no such feature (a 404 on a route). */
  get unavailable() {
    return this.status === 404 && (this.code === 'unknown_endpoint' || this.code === 'cache_unavailable');
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
export const setToken = (t) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** query builds a query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/**
 * api calls /admin/v1 + path and returns the decoded JSON. A 401 signs the
 * user out (the token was changed or is wrong).
 */
export async function api(path, { method = 'GET', body, params, signal, auth } = {}) {
  const headers = { Authorization: 'Bearer ' + (auth ?? token()) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch('/admin/v1' + path + query(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The gateway did not answer: ' + e.message);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.message || `HTTP ${res.status}`, e.type, e.code);
    if (res.status === 401 && auth === undefined) window.dispatchEvent(new CustomEvent('aig:signed-out'));
    throw err;
  }
  return data;
}
