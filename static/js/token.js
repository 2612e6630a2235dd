// The control token: from the link printed at start (?token=), kept in localStorage, removable.

const KEY = "beerpi.token";
const listeners = new Set();
let token = null;

/** Take ?token= off the address bar into storage; else what storage holds. Call once at start. */
export function loadToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl !== null) {
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    store(fromUrl || null);
  } else {
    try {
      token = localStorage.getItem(KEY);
    } catch {
      token = null;
    }
  }
  return token;
}

function store(value) {
  token = value;
  try {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  } catch {
    // private mode: this visit only
  }
}

export const getToken = () => token;

export function setToken(value) {
  store(value ? String(value).trim() || null : null);
  for (const listener of listeners) listener(token);
}

export function onTokenChange(listener) {
  listeners.add(listener);
}
