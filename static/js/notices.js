// Page-wide notices: a toast for errors that belong to no control, and the confirmation dialog.

const TOAST_MS = 8000;
let timer = null;

export function showError(message) {
  const toast = document.getElementById("error");
  toast.textContent = message;
  toast.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(hideError, TOAST_MS);
}

export function hideError() {
  clearTimeout(timer);
  document.getElementById("error").hidden = true;
}

/** Ask before a dangerous action; resolves true when confirmed. */
export function confirmAction(question, okLabel = "Confirm") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = question;
  document.getElementById("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

export const UNAUTHORIZED_TEXT = "Needs the control token: open the link printed in BeerPi's log at start, " +
  "or enter the token with the lock button at the top.";

/** A refused request in words for the control it came from. */
export function refusalText(error) {
  if (error.code === "unauthorized") return UNAUTHORIZED_TEXT;
  if (error.code === "rate_limited") return "Too many wrong tokens from this device: wait a few minutes.";
  if (error.code === "disconnected") return "Not connected to BeerPi: nothing was changed.";
  if (error.code === "not_saved") return `Done, but not saved: ${error.message}`;
  return error.message || `Refused (${error.code}).`;
}
