// Keeps a copy of what is typed in an autosaved form (an intake step, a visit note's draft) in
// this browser tab (sessionStorage, which ends with the tab), so that nothing is lost when the
// session times out, the connection drops or a save is refused: after signing in again, the form
// shows what was typed last. The server's autosave stays the main copy; this copy is restored
// only when it is newer than what the server saved.
//
// The form: data-draft-store (the kind: "intake", "visit-note"), data-draft-key, data-saved-at
// (ms) and the messages data-draft-restored, data-draft-signed-out, data-draft-offline;
// data-draft-refusals-in-words when the autosave answers a refusal (409, 422) in plain words,
// which are then shown as they are.
// An element data-draft-clear="<store>" drops every copy of that kind (an intake sent);
// data-draft-clear="<store>:<key>" drops one (a note signed).
(function () {
  "use strict";
  const ROOT = "backcare-";

  document.querySelectorAll("[data-draft-clear]").forEach((el) => {
    const prefix = ROOT + el.dataset.draftClear;
    Object.keys(sessionStorage)
      .filter((key) => key === prefix || key.startsWith(prefix + ":"))
      .forEach((key) => sessionStorage.removeItem(key));
  });
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = ROOT + form.dataset.draftStore + ":" + form.dataset.draftKey;
  const serverSavedAt = Number(form.dataset.savedAt || 0);
  const status = document.getElementById("autosave-status");

  function fields() {
    return Array.from(form.elements).filter(
      (el) => el.name && !["hidden", "submit", "button", "file"].includes(el.type)
    );
  }

  function keep() {
    const data = {};
    for (const el of fields()) {
      if (el.type === "radio") {
        if (el.checked) data[el.name] = el.value;
      } else if (el.type === "checkbox") {
        data[el.name] = data[el.name] || [];
        if (el.checked) data[el.name].push(el.value);
      } else {
        data[el.name] = el.value;
      }
    }
    sessionStorage.setItem(key, JSON.stringify({ savedAt: Date.now(), data: data }));
  }

  function restore() {
    let stored;
    try {
      stored = JSON.parse(sessionStorage.getItem(key) || "null");
    } catch (error) {
      return;
    }
    if (!stored || stored.savedAt <= serverSavedAt) return;
    for (const el of fields()) {
      if (!(el.name in stored.data)) continue;
      const value = stored.data[el.name];
      if (el.type === "radio") el.checked = el.value === value;
      else if (el.type === "checkbox") el.checked = value.includes(el.value);
      else el.value = value;
    }
    if (status) status.textContent = form.dataset.draftRestored;
  }

  function signedOut(event) {
    const url = event.detail.xhr && event.detail.xhr.responseURL;
    return Boolean(url && url.includes("/accounts/login/"));
  }

  restore();
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.addEventListener("submit", keep);
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.elt === form && signedOut(event)) event.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== form || !status) return;
    const xhr = event.detail.xhr || {};
    // Anything the server did not take stays the newest copy here.
    if (signedOut(event) || !event.detail.successful) keep();
    if (signedOut(event)) {
      status.textContent = form.dataset.draftSignedOut;
    } else if ("draftRefusalsInWords" in form.dataset && [409, 422].includes(xhr.status)) {
      // Saved except some fields, or refused (a note signed meanwhile): the answer says which.
      status.textContent = xhr.responseText;
    } else if (!event.detail.successful) {
      status.textContent = form.dataset.draftOffline;
    }
  });
})();
