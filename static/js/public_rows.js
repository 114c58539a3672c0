// Public results: tap (or Enter/Space on) a result row to show its details (component scores,
// award) in the row below it; tap again to hide them. Delegated from the document, so rows that
// htmx swaps in (a search, a republication) work the same.
(function () {
  "use strict";

  function toggle(row) {
    const detail = document.getElementById(row.getAttribute("aria-controls"));
    if (!detail) return;
    const open = row.getAttribute("aria-expanded") !== "true";
    row.setAttribute("aria-expanded", open ? "true" : "false");
    detail.hidden = !open;
  }

  document.addEventListener("click", (event) => {
    const row = event.target.closest("tr.result-row");
    if (row && !event.target.closest("a, button, input")) toggle(row);
  });
  document.addEventListener("keydown", (event) => {
    const row = event.target.closest && event.target.closest("tr.result-row");
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(row);
    }
  });
})();
