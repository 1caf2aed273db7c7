// The sp-taskpool API with the signed-in person's token (sessionStorage).
export const tokenKey = 'sp_token';
export function token() { return sessionStorage.getItem(tokenKey); }
export function setToken(v) { if (v) sessionStorage.setItem(tokenKey, v); else sessionStorage.removeItem(tokenKey); }

export class ApiError extends Error {
  constructor(status, body) { super((body && body.error && (body.error.message || body.error)) || 'HTTP ' + status); this.status = status; this.body = body; }
}
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// Calls the API; a 401 signs out; other errors throw ApiError with the JSON body.
export async function api(method, path, body, opts = {}) {
  const h = { Authorization: 'Bearer ' + (token() || '') };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal });
  let j = null;
  try { j = await r.json(); } catch (_) { j = null; }
  if (r.status === 401) { onUnauthorized(); throw new ApiError(401, j); }
  if (!r.ok) throw new ApiError(r.status, j);
  return j;
}
export const enc = encodeURIComponent;
