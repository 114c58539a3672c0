// The chief judge's console: a change on this item makes htmx re-fetch the matrix ("live-change",
// coalesced by the server). Reconnects with capped exponential backoff and jitter.
(function () {
  "use strict";
  const matrix = document.getElementById("matrix");
  if (!matrix) return;
  let attempt = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/console/" + encodeURIComponent(matrix.dataset.item));
    ws.onopen = function () { attempt = 0; };
    ws.onmessage = function () { document.body.dispatchEvent(new Event("live-change")); };
    ws.onclose = function () {
      const ceiling = Math.min(30000, 1000 * Math.pow(2, attempt));
      attempt += 1;
      setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
    };
  }
  connect();
})();
