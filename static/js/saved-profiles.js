// The saved profiles (docs/protocol.md, "profiles"): one list for the page, asked for at every
// hello and kept current by the list the server sends every client after a save or a delete.

const MAX_NAME_LENGTH = 40;
const models = new WeakMap();  // connection -> its SavedProfiles

/** The page's saved profiles on `connection` (one list, whichever chamber's editor asks). */
export function savedProfilesOf(connection) {
  if (!models.has(connection)) models.set(connection, new SavedProfiles(connection));
  return models.get(connection);
}

/** Names match whatever their case, as the server compares them. */
export const sameName = (a, b) => a.normalize("NFC").toLowerCase() === b.normalize("NFC").toLowerCase();

/** A name as the brewer typed it, its ends trimmed; or {error} in words for a name the server would refuse. */
export function checkedName(text) {
  const name = String(text).trim();
  if (!name) return { error: "Give the profile a name." };
  if (name.length > MAX_NAME_LENGTH) return { error: `A name is at most ${MAX_NAME_LENGTH} characters.` };
  return { name };
}

export class SavedProfiles {
  constructor(connection) {
    this.connection = connection;
    this.profiles = null;   // [{name, steps, saved}] once known
    this.error = null;      // why the list could not be read
    this.listeners = new Set();
    this.asking = null;
    connection.on("profiles", (frame) => this.set(frame.profiles));
    connection.on("hello", () => this.refresh());
    if (connection.live) this.refresh();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  find(name) {
    return (this.profiles || []).find((profile) => sameName(profile.name, name)) || null;
  }

  refresh() {
    if (this.asking) return this.asking;
    this.asking = this.connection.request({ type: "profiles", action: "list" })
      .then((frame) => this.set(frame.profiles))
      .catch((error) => {
        this.error = error.message || error.code;
        this.notify();
      })
      .finally(() => { this.asking = null; });
    return this.asking;
  }

  set(profiles) {
    if (!Array.isArray(profiles)) return;
    this.profiles = profiles;
    this.error = null;
    this.notify();
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  /** Save (or replace) `name` with `steps`; the server's refusal rejects. */
  save(name, steps) {
    return this.connection.request({ type: "profiles", action: "save", name, steps });
  }

  remove(name) {
    return this.connection.request({ type: "profiles", action: "delete", name });
  }
}
