// A batch's downloads (its CSV, its JSON) as plain links, so the browser streams them into a file
// however long the batch. With --read-token-required the API wants the token this browser keeps
// (token.js): it goes on the link's address only for the moment the link is followed, so a link
// copied or shared from the page never carries it. The server takes ?token= off its logs, and its
// Referrer-Policy (no-referrer) keeps it from leaving with any other request.

import { getToken } from "./token.js";

/** `path` with the token this browser keeps, if any, as ?token=. */
export function withToken(path, token = getToken()) {
  if (!token) return path;
  const url = new URL(path, "http://beerpi.invalid");
  url.searchParams.set("token", token);
  return url.pathname + url.search;
}

/** Makes `link` download `path`, with the token added while it is followed (click, middle click, Enter). */
export function offerDownload(link, path) {
  link.href = path;
  const follow = () => {
    const tokened = withToken(path);
    if (tokened === path) return;
    link.href = tokened;  // the browser follows the address the link has once its handlers ran
    setTimeout(() => {
      link.href = path;
    });
  };
  link.addEventListener("click", follow);
  link.addEventListener("auxclick", follow);
}
