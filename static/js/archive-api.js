// The archive's and the batch page's reads of the HTTP API (docs/http.md): JSON with the token
// this browser keeps (token.js), which the server only asks for with --read-token-required; and
// the batch page's deletions, which always need it.

import { getToken, loadToken } from "./token.js";

loadToken();  // a shared link's ?token= goes into storage and off the address bar

/** An answer the API refused: its HTTP status, its error code and message in words. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET `path` (with `params`) as JSON; an ApiError for any status but 200. */
export async function getJson(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value));
  return send(url, { cache: "no-store" });
}

/** POST `body` as JSON to `path` with the token (a change: docs/http.md); an ApiError for any status but 200. */
export async function postJson(path, body) {
  return send(new URL(path, location.origin), {
    method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

async function send(url, options) {
  const token = getToken();
  const headers = { ...(options.headers ?? {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  let response;
  try {
    response = await fetch(url, { ...options, headers });
  } catch {
    throw new ApiError(0, "disconnected", "BeerPi cannot be reached: check that it runs and this device is on its network");
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body) return body;
  const error = body?.error ?? {};
  const unauthorized = options.method === "POST"
    ? "This needs the control token: open the link printed in BeerPi's log at start"
    : "This server needs its token to watch: open the link printed in BeerPi's log at start";
  throw new ApiError(response.status, error.code ?? "error",
    response.status === 401 ? unauthorized : error.message ?? `BeerPi answered ${response.status}`);
}

/** A batch's page and its downloads. */
export const batchPath = (id) => `/batches/${encodeURIComponent(id)}`;
export const reportPath = (id, extension = "") => `/api/batches/${encodeURIComponent(id)}${extension}`;
