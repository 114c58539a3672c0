// The judge's tablet: marks go into an outbox kept in localStorage, are sent over a websocket,
// and leave the outbox only when the server acknowledges them. A reload, a dropped Wi-Fi or a
// closed tab loses nothing: the outbox is resent on every (re)connection. See docs/live.md.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("tablet-config").textContent);
  const text = JSON.parse(document.getElementById("tablet-text").textContent);
  const user = config.judge;
  const outboxKey = "contest.outbox." + user;
  const storedKey = "contest.stored." + user;
  const deviceKey = "contest.device";

  const load = (key) => { try { return JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { return {}; } };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));
  let outbox = load(outboxKey);     // client_id -> {item_id, station, criterion_id, value}
  let stored = load(storedKey);     // "item:station:criterion" -> acknowledged value
  const errors = {};                // "item:station:criterion" -> last refusal message
  const drafts = {};                // "item:station:criterion" -> what the judge typed, not yet submitted
  if (!localStorage.getItem(deviceKey)) localStorage.setItem(deviceKey, "tablet-" + uuid().slice(0, 8));

  let socket = null;
  let retry = 0;
  let retryTimer = null;
  let lastHeard = 0;                // when the current socket was opened or last received anything
  const PING_EVERY = 10000, SILENT_LIMIT = 25000, CONNECT_LIMIT = 10000;
  let current = { item: config.items.length ? config.items[0].id : null, station: null };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
      const r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }
  const key = (item, station, criterion) => item + ":" + station + ":" + criterion;
  const itemById = (id) => config.items.find((i) => i.id === id);

  // ------------------------------------------------------------------ connection
  function setConn(state) {
    const el = document.getElementById("conn");
    el.dataset.state = state;
    el.className = "conn conn-" + state;
    el.textContent = text[state];
  }

  // One socket at a time: a socket that is no longer the current one (closed for going offline,
  // or replaced) must neither clear the current one nor schedule another connection.
  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (socket) return;
    if (!navigator.onLine) { setConn("offline"); return; }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/judge");
    socket = ws;
    lastHeard = Date.now();
    setConn("reconnecting");
    let opened = false;
    ws.onopen = () => {
      if (socket !== ws) return;
      opened = true;
      retry = 0;
      showSignIn(false);
      lastHeard = Date.now();
      setConn("connected");
      ws.send(JSON.stringify({ type: "hello", device: localStorage.getItem(deviceKey) }));
    };
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      lastHeard = Date.now();
      receive(JSON.parse(event.data));
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (!opened && retry >= 2 && navigator.onLine) checkSession();
      setConn(navigator.onLine ? "reconnecting" : "offline");
      if (navigator.onLine) retryTimer = setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
    };
  }

  // A socket refused again and again while the network is up usually means the sign-in expired:
  // ask the server, and if so offer the sign-in page (the outbox stays and is resent after it).
  function checkSession() {
    fetch("/tablet", { redirect: "manual", cache: "no-store" })
      .then((response) => showSignIn(response.type === "opaqueredirect" || response.status === 401 || response.status === 403))
      .catch(() => {});
  }

  function showSignIn(expired) {
    const box = document.getElementById("signin");
    if (box) box.hidden = !expired;
  }

  function drop() {
    // Forget the current socket at once (its close handshake may take long on a dead network).
    const ws = socket;
    socket = null;
    if (ws) ws.close();
  }

  function flush() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    for (const [clientId, mark] of Object.entries(outbox)) {
      socket.send(JSON.stringify({ type: "mark", client_id: clientId, ...mark }));
    }
  }

  function receive(message) {
    if (message.type === "welcome") {
      // The server is the truth for the items it names: forget stale local copies there.
      const items = new Set((message.items || []).map(String));
      for (const k of Object.keys(stored)) if (items.has(k.split(":")[0])) delete stored[k];
      for (const m of message.marks) stored[key(m.item_id, m.station, m.criterion_id)] = m.value;
      save(storedKey, stored);
      flush();
    } else if (message.type === "ack") {
      const k = key(message.item_id, message.station, message.criterion_id);
      const mark = outbox[message.client_id];
      delete outbox[message.client_id];
      // An ack of an older value that a newer one replaced must not show as the stored value.
      if (mark || !pendingFor(message.item_id, message.station, message.criterion_id)) {
        stored[k] = message.value;
        delete errors[k];
      }
      save(outboxKey, outbox);
      save(storedKey, stored);
      if (!Object.keys(errors).length) document.getElementById("last-error").textContent = "";
    } else if (message.type === "error") {
      document.getElementById("last-error").textContent = message.message;
      const mark = message.client_id && outbox[message.client_id];
      if (mark && message.code === "server_error") {
        setTimeout(flush, 5000); // kept in the outbox: try again (a retry is never stored twice)
      } else if (mark) {
        // A refusal is final for this mark: drop it, show why on its criterion, keep the value
        // in the field for the judge to correct.
        const k = key(mark.item_id, mark.station, mark.criterion_id);
        errors[k] = message.message;
        if (drafts[k] === undefined) drafts[k] = mark.value;
        delete outbox[message.client_id];
        save(outboxKey, outbox);
        if (message.code === "item_closed") {
          const item = itemById(mark.item_id);
          if (item) item.closed = message.message;
        }
      }
    } else {
      return; // pong
    }
    render();
  }

  window.addEventListener("offline", () => { drop(); setConn("offline"); });
  window.addEventListener("online", () => connect());
  setInterval(() => {
    if (!socket) return;
    const silent = Date.now() - lastHeard;
    const stuck = socket.readyState === WebSocket.CONNECTING ? silent > CONNECT_LIMIT : silent > SILENT_LIMIT;
    if (stuck) {
      // A handshake that never finishes, or no answer to our pings: the network died without
      // telling the browser. Start over; the outbox is resent after the welcome.
      drop();
      setConn("reconnecting");
      connect();
    } else if (socket.readyState === WebSocket.OPEN) {
      socket.send('{"type":"ping"}');
    }
  }, PING_EVERY);

  // ------------------------------------------------------------------ marks
  // Full-width digits and points from a Chinese input method count as ordinary ones.
  const normalise = (raw) => String(raw).trim()
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48))
    .replace(/[\uFF0E\u3002]/g, ".");

  function check(criterion, raw) {
    const value = Number(raw);
    if (raw === "" || !isFinite(value)) return text.number;
    const max = criterion.worldskills ? 3 : Number(criterion.max);
    const step = criterion.worldskills ? 1 : Number(criterion.step);
    if (value < 0 || value > max) return text.range + " (0-" + max + ")";
    const steps = value / step;
    if (Math.abs(steps - Math.round(steps)) > 1e-9) return text.step + " (" + step + ")";
    return null;
  }

  function submit(item, station, criterion, raw) {
    const value = normalise(raw);
    const problem = check(criterion, value);
    const k = key(item.id, station, criterion.id);
    if (problem) { errors[k] = problem; drafts[k] = String(raw); render(); return; }
    delete errors[k];
    delete drafts[k];
    // A newer value for the same cell replaces an unsent older one.
    for (const [id, mark] of Object.entries(outbox)) {
      if (mark.item_id === item.id && mark.station === station && mark.criterion_id === criterion.id) delete outbox[id];
    }
    const clientId = uuid();
    outbox[clientId] = { item_id: item.id, station: station, criterion_id: criterion.id, value: value };
    save(outboxKey, outbox);
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "mark", client_id: clientId, ...outbox[clientId] }));
    }
    render();
  }

  function pendingFor(item, station, criterion) {
    return Object.values(outbox).find((m) => m.item_id === item && m.station === station && m.criterion_id === criterion);
  }

  // ------------------------------------------------------------------ rendering
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function render() {
    const pendingCount = Object.keys(outbox).length;
    document.getElementById("pending").textContent = pendingCount;
    document.getElementById("pending-box").dataset.count = pendingCount;
    const tabs = document.getElementById("item-tabs");
    tabs.replaceChildren(...config.items.map((item) =>
      el("button", { type: "button", class: "tab" + (item.id === current.item ? " active" : ""), text: item.name,
        onclick: () => { current = { item: item.id, station: null }; render(); } })));
    const item = itemById(current.item);
    if (!item) return;
    document.getElementById("item-title").textContent = item.competition + " · " + item.name;
    const closed = item.closed || (item.status === "scoring" ? "" : text.closed);
    const status = document.getElementById("item-status");
    status.textContent = closed;
    status.hidden = !closed;
    const stations = document.getElementById("stations");
    stations.replaceChildren(...item.stations.map((s) => {
      const cells = item.criteria.map((c) => key(item.id, s.no, c.id));
      const entered = item.criteria.filter((c) => stored[key(item.id, s.no, c.id)] !== undefined || pendingFor(item.id, s.no, c.id)).length;
      const done = entered === item.criteria.length;
      const pending = item.criteria.some((c) => pendingFor(item.id, s.no, c.id));
      const refused = cells.some((k) => errors[k]);
      const cls = ["station", s.blocked ? "blocked" : "", done ? "done" : entered ? "partial" : "", pending ? "pending" : "", refused ? "refused" : "",
        current.station === s.no ? "active" : ""];
      return el("button", { type: "button", class: cls.filter(Boolean).join(" "), "data-station": s.no,
        disabled: s.blocked ? "disabled" : null, "aria-pressed": current.station === s.no ? "true" : "false",
        onclick: () => { current.station = s.no; render(); } },
        [el("span", { class: "no", text: String(s.no) }),
         el("span", { class: "flag", text: s.blocked ? text.blocked : refused ? "!" : pending ? "…" : done ? "✓" : entered ? entered + "/" + item.criteria.length : "" })]);
    }));
    const sheet = document.getElementById("sheet");
    sheet.hidden = current.station === null;
    if (current.station === null) return;
    document.getElementById("station-no").textContent = current.station;
    // Rows are rebuilt on every acknowledgement: keep the field the judge is typing in focused.
    const active = document.activeElement;
    const focused = active && active.classList && active.classList.contains("mark-input") ? active.dataset.key : null;
    const caret = focused ? [active.selectionStart, active.selectionEnd] : null;
    document.getElementById("criteria").replaceChildren(...item.criteria.map((c) => criterionRow(item, current.station, c)));
    if (focused) {
      const field = document.querySelector('#criteria .mark-input[data-key="' + focused + '"]');
      if (field) {
        field.focus();
        try { field.setSelectionRange(caret[0], caret[1]); } catch (e) { /* not a text field */ }
      }
    }
  }

  function criterionRow(item, station, c) {
    const k = key(item.id, station, c.id);
    const pending = pendingFor(item.id, station, c.id);
    const value = pending ? pending.value : stored[k];
    const state = pending ? "pending" : value !== undefined ? "saved" : "missing";
    const shown = drafts[k] !== undefined ? drafts[k] : value;
    const label = el("div", { class: "crit-label" }, [
      el("strong", { text: c.code + " " + c.name }),
      el("span", { class: "muted", text: " " + c.component + " · 0-" + (c.worldskills ? 3 : c.max) + (c.worldskills ? "" : " / " + c.step) }),
    ]);
    let input;
    if (c.worldskills) {
      input = el("div", { class: "ws-buttons" }, [0, 1, 2, 3].map((n) =>
        el("button", { type: "button", class: "big" + (value !== undefined && String(value) === String(n) ? " chosen" : ""), text: String(n),
          "aria-pressed": value !== undefined && String(value) === String(n) ? "true" : "false",
          onclick: () => submit(item, station, c, n) })));
    } else {
      const field = el("input", { type: "text", inputmode: "decimal", enterkeyhint: "done", autocomplete: "off",
        class: "mark-input" + (drafts[k] !== undefined && drafts[k] !== value ? " edited" : ""),
        value: shown === undefined ? "" : shown, "data-criterion": c.id, "data-key": k, "aria-label": c.code + " " + c.name,
        oninput: (event) => { drafts[k] = event.target.value; event.target.classList.add("edited"); },
        onkeydown: (event) => { if (event.key === "Enter") { event.preventDefault(); submit(item, station, c, field.value); } } });
      input = el("div", { class: "mark-entry" }, [field,
        el("button", { type: "button", class: "primary big submit", text: text.submit, onclick: () => submit(item, station, c, field.value) })]);
    }
    const status = el("span", { class: "mark-state state-" + state, "data-state": state,
      text: state === "saved" ? "✓ " + text.saved : state === "pending" ? "… " + text.pending : "— " + text.missing });
    const error = errors[k] ? el("div", { class: "error row-error", role: "alert", text: "! " + errors[k] }) : el("span", { hidden: "hidden" });
    return el("div", { class: "criterion state-" + state + (errors[k] ? " refused" : ""), "data-criterion": c.id }, [label, input, status, error]);
  }

  render();
  connect();
})();
