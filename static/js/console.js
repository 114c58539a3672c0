// The chief judge's console: a change of the item (pushed over /ws/console/{item}) makes htmx
// re-fetch the live panels; the lock button follows the panel's "lockable". Lock, reveal and
// reopen ask for a confirmation first (data-confirm: static/js/forms.js). See docs/live.md.
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const item = root.dataset.item;
  const FINAL = [4403, 4404]; // not this item's chief judge, no such item: reconnecting cannot help
  const BASE = 1000, CAP = 30000;
  let failures = 0;

  // One timer, the delay doubling per attempt up to CAP, half of it random, reset when the server
  // answers ("watching"): a restart does not bring every console back at the same instant.
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console/" + item);
    let opened = false;
    ws.onopen = () => { opened = true; };
    ws.onmessage = (event) => {
      // "watching": the server admitted this console (an open socket alone may still be refused,
      // or closed by a server that cannot answer): only then does the back-off start over.
      let message = {};
      try { message = JSON.parse(event.data); } catch (e) { /* not ours */ }
      if (message.type === "watching") failures = 0;
      else document.body.dispatchEvent(new Event("live-change"));
    };
    ws.onclose = (event) => {
      if (FINAL.includes(event.code)) return;
      if (opened) document.body.dispatchEvent(new Event("live-change")); // catch up on what was missed
      const delay = Math.min(CAP, BASE * 2 ** failures++);
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }

  function followReadiness() {
    const panel = document.getElementById("readiness");
    const button = document.getElementById("lock-button");
    if (panel && button) button.disabled = panel.dataset.lockable !== "true";
  }

  // When a tablet's state changes (it went offline, its unsent marks went out), why the lock waits
  // may read differently: refresh that panel too.
  let devices = summary();
  function summary() {
    const table = document.querySelector("#devices table.devices");
    return table ? table.dataset.summary : "";
  }
  document.body.addEventListener("htmx:afterSwap", (event) => {
    followReadiness();
    if (event.target && event.target.id === "devices" && summary() !== devices) {
      devices = summary();
      window.htmx.trigger(document.getElementById("live"), "devices-changed");
    }
  });
  followReadiness();
  connect();
})();
