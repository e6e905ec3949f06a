// The pages talk only to /api/v1: the session cookie rides along, the CSRF token goes with every
// request that changes something.

let csrf = null;
export function setCsrf(t) {
  csrf = t;
}

export class ApiFailure extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** The whole error answer (e.g. `problems` of a form). */
    this.body = body;
  }
}

export async function api(path, opts = {}) {
  const headers = { accept: 'application/json', ...(opts.headers ?? {}) };
  const method = opts.method ?? 'GET';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let body = opts.body;
  if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob) && !(body instanceof ArrayBuffer) && typeof body !== 'string') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = json?.error ?? { code: 'E_HTTP', message: `${res.status} ${res.statusText}` };
    throw new ApiFailure(res.status, e.code, e.message, json);
  }
  return json;
}

/** Query string of the non-empty entries. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
