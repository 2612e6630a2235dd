// Which batches the compare page overlays: the ids of `?batches=<id>,<id>[,…]`, checked.

export const MIN_BATCHES = 2;
export const MAX_BATCHES = 4;

/**
 * The ids in `search` (a location's query string), in order, each once, and what is wrong with
 * them in words (null: nothing). With an error there is nothing to draw.
 */
export function batchIdsOf(search) {
  const raw = new URLSearchParams(search).getAll("batches").join(",");
  const ids = [...new Set(raw.split(",").map((id) => id.trim()).filter(Boolean))];
  if (ids.length < MIN_BATCHES) {
    const given = ids.length === 0 ? "none was given" : `only ${ids[0]} was given`;
    return { ids, error: `Choose ${MIN_BATCHES} to ${MAX_BATCHES} batches to compare: ${given}. ` +
      "Pick them in the archive, or list their ids as /compare?batches=<id>,<id>." };
  }
  if (ids.length > MAX_BATCHES) {
    return { ids, error: `At most ${MAX_BATCHES} batches fit on one chart: ${ids.length} were given. ` +
      "Leave some out of the address (/compare?batches=<id>,<id>)." };
  }
  return { ids, error: null };
}
