// The compare page's reads of the HTTP API (docs/http.md): a batch's report and a probe's readings,
// with the token when the browser holds one (watching needs it only with --read-token-required).

import { getToken } from "./token.js";

/** A refused read: the HTTP status, the server's error code and its message in words. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function getJson(path) {
  const token = getToken();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch(path, { headers, cache: "no-store" });
  } catch {
    throw new ApiError(0, "offline", "BeerPi cannot be reached: check the connection, then reload");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? "http",
      body?.error?.message ?? `the server answered ${response.status}`);
  }
  return body;
}

/** GET /api/batches/<id>: the batch, its notes, gravities and probes. */
export const fetchReport = (id) => getJson(`/api/batches/${encodeURIComponent(id)}`);

/** GET /api/readings: `probe`'s buckets from `since` to `until` (Unix s), at most `points` of them. */
export function fetchReadings(probe, since, until, points) {
  const query = new URLSearchParams({ probe, since: since.toFixed(3), until: until.toFixed(3), points: String(points) });
  return getJson(`/api/readings?${query}`);
}
