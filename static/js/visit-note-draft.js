// Keeps a copy of a visit note's draft in this browser tab (sessionStorage, which ends with the
// tab), as intake-draft.js does for the intake: nothing typed is lost when the session times out,
// the connection drops or a save is refused. The server's autosave stays the main copy; this copy
// is restored only when it is newer than what the server saved. A signed note clears its copy.
(function () {
  "use strict";
  const PREFIX = "backcare-visit-note:";

  document.querySelectorAll("[data-note-locked]").forEach((el) => {
    sessionStorage.removeItem(PREFIX + el.dataset.noteLocked);
  });
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = PREFIX + form.dataset.draftKey;
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
    if (status) {
      status.textContent =
        "We restored what you typed in this tab, which the server had not saved. " +
        "Check it, then save the draft.";
    }
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
    const xhr = event.detail.xhr;
    // Anything the server did not take stays the newest copy here.
    if (signedOut(event) || !event.detail.successful) keep();
    if (signedOut(event)) {
      status.textContent =
        "Not saved on the server: you were signed out. What you typed is kept in this tab; " +
        "sign in again to continue.";
    } else if (xhr && (xhr.status === 422 || xhr.status === 409)) {
      // Saved except some fields, or refused (the note was signed meanwhile): the answer says
      // which, in words.
      status.textContent = xhr.responseText;
    } else if (!event.detail.successful) {
      status.textContent =
        "Not saved on the server: you may have lost the connection. What you typed is kept " +
        "in this tab; save the draft when you are back online.";
    }
  });
})();
