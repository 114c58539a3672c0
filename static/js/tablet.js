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
  if (!localStorage.getItem(deviceKey)) localStorage.setItem(deviceKey, "tablet-" + uuid().slice(0, 8));

  let socket = null;
  let retry = 0;
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

  function connect() {
    if (!navigator.onLine) { setConn("offline"); return; }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/judge");
    setConn("reconnecting");
    socket.onopen = () => {
      retry = 0;
      setConn("connected");
      socket.send(JSON.stringify({ type: "hello", device: localStorage.getItem(deviceKey) }));
    };
    socket.onmessage = (event) => receive(JSON.parse(event.data));
    socket.onclose = () => {
      socket = null;
      setConn(navigator.onLine ? "reconnecting" : "offline");
      if (navigator.onLine) setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
    };
  }

  function flush() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    for (const [clientId, mark] of Object.entries(outbox)) {
      socket.send(JSON.stringify({ type: "mark", client_id: clientId, ...mark }));
    }
  }

  function receive(message) {
    if (message.type === "welcome") {
      for (const m of message.marks) stored[key(m.item_id, m.station, m.criterion_id)] = m.value;
      save(storedKey, stored);
      flush();
    } else if (message.type === "ack") {
      delete outbox[message.client_id];
      stored[key(message.item_id, message.station, message.criterion_id)] = message.value;
      delete errors[key(message.item_id, message.station, message.criterion_id)];
      save(outboxKey, outbox);
      save(storedKey, stored);
    } else if (message.type === "error") {
      document.getElementById("last-error").textContent = message.message;
      const mark = message.client_id && outbox[message.client_id];
      if (mark && message.code !== "server_error") {
        // A refusal is final for this mark: drop it and show why on its criterion.
        errors[key(mark.item_id, mark.station, mark.criterion_id)] = message.message;
        delete outbox[message.client_id];
        save(outboxKey, outbox);
      }
    }
    render();
  }

  window.addEventListener("offline", () => { setConn("offline"); if (socket) socket.close(); });
  window.addEventListener("online", () => { if (!socket) connect(); });

  // ------------------------------------------------------------------ marks
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
    const problem = check(criterion, String(raw).trim());
    const k = key(item.id, station, criterion.id);
    if (problem) { errors[k] = problem; render(); return; }
    delete errors[k];
    // A newer value for the same cell replaces an unsent older one.
    for (const [id, mark] of Object.entries(outbox)) {
      if (mark.item_id === item.id && mark.station === station && mark.criterion_id === criterion.id) delete outbox[id];
    }
    const clientId = uuid();
    outbox[clientId] = { item_id: item.id, station: station, criterion_id: criterion.id, value: String(raw).trim() };
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
    document.getElementById("pending").textContent = Object.keys(outbox).length;
    const tabs = document.getElementById("item-tabs");
    tabs.replaceChildren(...config.items.map((item) =>
      el("button", { type: "button", class: "tab" + (item.id === current.item ? " active" : ""), text: item.name,
        onclick: () => { current = { item: item.id, station: null }; render(); } })));
    const item = itemById(current.item);
    if (!item) return;
    document.getElementById("item-title").textContent = item.competition + " · " + item.name;
    document.getElementById("item-status").textContent = item.status === "scoring" ? "" : text.closed;
    const stations = document.getElementById("stations");
    stations.replaceChildren(...item.stations.map((s) => {
      const done = item.criteria.every((c) => stored[key(item.id, s.no, c.id)] !== undefined || pendingFor(item.id, s.no, c.id));
      const pending = item.criteria.some((c) => pendingFor(item.id, s.no, c.id));
      const cls = ["station", s.blocked ? "blocked" : "", done ? "done" : "", pending ? "pending" : "", current.station === s.no ? "active" : ""];
      return el("button", { type: "button", class: cls.join(" "), "data-station": s.no, disabled: s.blocked ? "disabled" : null,
        text: s.no + (s.blocked ? " " + text.blocked : ""),
        onclick: () => { current.station = s.no; render(); } });
    }));
    const sheet = document.getElementById("sheet");
    sheet.hidden = current.station === null;
    if (current.station === null) return;
    document.getElementById("station-no").textContent = current.station;
    document.getElementById("criteria").replaceChildren(...item.criteria.map((c) => criterionRow(item, current.station, c)));
  }

  function criterionRow(item, station, c) {
    const k = key(item.id, station, c.id);
    const pending = pendingFor(item.id, station, c.id);
    const value = pending ? pending.value : stored[k];
    const state = pending ? "pending" : value !== undefined ? "saved" : "missing";
    const label = el("div", { class: "crit-label" }, [
      el("strong", { text: c.code + " " + c.name }),
      el("span", { class: "muted", text: " " + c.component + " · 0-" + (c.worldskills ? 3 : c.max) + (c.worldskills ? "" : " / " + c.step) }),
    ]);
    let input;
    if (c.worldskills) {
      input = el("div", { class: "ws-buttons" }, [0, 1, 2, 3].map((n) =>
        el("button", { type: "button", class: "big" + (String(value) === String(n) ? " chosen" : ""), text: String(n),
          onclick: () => submit(item, station, c, n) })));
    } else {
      const field = el("input", { type: "text", inputmode: "decimal", class: "mark-input", value: value === undefined ? "" : value,
        "data-criterion": c.id, "aria-label": c.code });
      input = el("div", { class: "mark-entry" }, [field,
        el("button", { type: "button", class: "primary big", text: text.submit, onclick: () => submit(item, station, c, field.value) })]);
    }
    const status = el("span", { class: "mark-state state-" + state, "data-state": state,
      text: state === "saved" ? "✓ " + text.saved : state === "pending" ? "… " + text.pending : text.missing });
    const error = errors[k] ? el("div", { class: "error", text: errors[k] }) : el("span");
    return el("div", { class: "criterion", "data-criterion": c.id }, [label, input, status, error]);
  }

  render();
  connect();
  setInterval(() => { if (socket && socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}'); }, 20000);
})();
