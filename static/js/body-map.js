// The body map (BodyMapWidget, templates/widgets/body_map.html): shows the figure above the
// checkbox list and keeps the two in step. Clicking or tapping an area clicks its checkbox, so
// the form sees exactly what a tick in the list gives (change events, autosave, the draft kept
// in the tab). The list stays the control for keyboards and screen readers; focusing or
// hovering a checkbox outlines its area on the figure.
(function () {
  "use strict";

  function enhance(map) {
    if (map.dataset.bodyMapReady) return;
    const figure = map.querySelector(".body-map__figure");
    if (!figure) return;
    map.dataset.bodyMapReady = "true";
    const areas = Array.from(map.querySelectorAll(".body-map__area[data-for]"));

    function checkboxOf(area) {
      return document.getElementById(area.dataset.for);
    }

    function areasOf(checkbox) {
      return areas.filter((area) => area.dataset.for === checkbox.id);
    }

    function sync() {
      for (const area of areas) {
        const checkbox = checkboxOf(area);
        area.classList.toggle("is-selected", Boolean(checkbox && checkbox.checked));
      }
    }

    function point(event, on) {
      const option = event.target.closest(".body-map__option");
      const checkbox = option && option.querySelector("input[type=checkbox]");
      if (!checkbox) return;
      for (const area of areasOf(checkbox)) area.classList.toggle("is-pointed", on);
    }

    figure.addEventListener("click", (event) => {
      const area = event.target.closest(".body-map__area");
      const checkbox = area && checkboxOf(area);
      if (checkbox && !checkbox.disabled) checkbox.click();
    });
    map.addEventListener("change", sync);
    map.addEventListener("focusin", (event) => point(event, true));
    map.addEventListener("focusout", (event) => point(event, false));
    map.addEventListener("mouseover", (event) => point(event, true));
    map.addEventListener("mouseout", (event) => point(event, false));
    // Answers restored without a change event (the intake's draft, the back button) show too.
    window.addEventListener("pageshow", sync);
    sync();
    figure.hidden = false;
  }

  function enhanceAll(root) {
    if (root.matches && root.matches("[data-body-map]")) enhance(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-body-map]").forEach(enhance);
  }

  enhanceAll(document);
  // Forms swapped in by htmx get their map too.
  document.addEventListener("htmx:load", (event) => enhanceAll(event.detail.elt));
})();
