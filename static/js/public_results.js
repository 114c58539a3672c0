// Public results: when an item of this competition is published (or revised), the results re-render
// (htmx listens for "results-published" on the body). Reconnects with capped exponential backoff and
// jitter, so a server restart is not met by every phone in the hall at the same instant.
(function () {
  "use strict";
  const results = document.getElementById("results");
  if (!results) return;
  const competition = results.dataset.competition;
  const seen = {};
  let attempt = 0;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/board/" + encodeURIComponent(competition));
    ws.onopen = function () {
      attempt = 0;
      ws.send(JSON.stringify({ type: "hello", seqs: {} }));
    };
    ws.onmessage = function (event) {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      let changed = false;
      for (const item of message.items || []) {
        const state = item.status === "published" || item.status === "final" ? item.status + ":" + item.seq : "";
        if (message.type === "update" && seen[item.item_id] !== state && state) changed = true;
        seen[item.item_id] = state;
      }
      if (changed) document.body.dispatchEvent(new Event("results-published"));
    };
    ws.onclose = function () {
      const ceiling = Math.min(60000, 2000 * Math.pow(2, attempt));
      attempt += 1;
      setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
    };
  }
  connect();
})();
