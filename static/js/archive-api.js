// The archive's and the batch page's reads of the HTTP API (docs/http.md): JSON with the token
// this browser keeps (token.js), which the server only asks for with --read-token-required.

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
  const token = getToken();
  let response;
  try {
    response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store" });
  } catch {
    throw new ApiError(0, "disconnected", "BeerPi cannot be reached: check that it runs and this device is on its network");
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body) return body;
  const error = body?.error ?? {};
  throw new ApiError(response.status, error.code ?? "error",
    response.status === 401 ? "This server needs its token to watch: open the link printed in BeerPi's log at start"
      : error.message ?? `BeerPi answered ${response.status}`);
}

/** A batch's page and its downloads. */
export const batchPath = (id) => `/batches/${encodeURIComponent(id)}`;
export const reportPath = (id, extension = "") => `/api/batches/${encodeURIComponent(id)}${extension}`;
