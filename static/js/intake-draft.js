// Keeps a copy of what is typed in an intake step in this browser tab (sessionStorage, which
// ends with the tab), so that nothing is lost when the session times out or the network drops:
// after signing in again, the step shows the answers typed last. The server's autosave stays
// the main copy; this copy is used only when it is newer than what the server saved.
(function () {
  "use strict";
  const PREFIX = "backcare-intake:";

  if (document.querySelector("[data-intake-sent]")) {
    Object.keys(sessionStorage)
      .filter((key) => key.startsWith(PREFIX))
      .forEach((key) => sessionStorage.removeItem(key));
    return;
  }
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
        "We restored the answers you typed in this tab before you were signed out. " +
        "Check them, then continue.";
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
    if (!event.detail.successful || signedOut(event)) {
      status.textContent =
        "Not saved on the server: you may have been signed out or lost the connection. " +
        "Your answers are kept in this tab; sign in again to continue.";
    }
  });
})();
