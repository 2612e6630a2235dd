// A recipe file (or text pasted from it) read by the server as a batch's draft: POST
// /api/recipes/draft (docs/http.md). Nothing is stored; the answer fills the start form.

import { getToken } from "./token.js";

const MAX_RECIPE_BYTES = 1024 * 1024;

/** The draft {recipe, recipes} of a File or of pasted text; rejects with an Error in words. */
export async function readRecipe(source) {
  const isFile = typeof source !== "string";
  if (isFile && source.size > MAX_RECIPE_BYTES) throw new Error("The file is over 1 MiB: that is not a recipe file.");
  if (!isFile && !source.trim()) throw new Error("Choose a recipe file or paste its text first.");
  const headers = { "Content-Type": isFile ? "application/xml" : "text/plain;charset=UTF-8" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/api/recipes/draft", { method: "POST", headers, body: source });
  } catch {
    throw new Error("Not connected to BeerPi: the recipe was not read.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body?.error?.message ? `Not a recipe BeerPi can read: ${body.error.message}.`
      : `The recipe was not read (HTTP ${response.status}).`);
  }
  return body;
}
