// The judge's tablet. A typed value is kept at once (a draft, in localStorage) and submitted when the
// judge leaves the field, as WorldSkills CIS does; a submitted mark goes into an outbox kept in
// localStorage, is sent over a websocket, and leaves the outbox only when the server acknowledges it.
// A reload, a dropped Wi-Fi or a closed tab loses nothing; the service worker (/tablet-sw.js) keeps
// the page itself, so it also opens with no network. See docs/live.md.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("tablet-config").textContent);
  const text = JSON.parse(document.getElementById("tablet-text").textContent);
  const user = config.judge;
  const keys = {
    outbox: "contest.outbox." + user,
    stored: "contest.stored." + user,
    drafts: "contest.drafts." + user,
    taken: "contest.taken." + user,
    device: "contest.device",
  };

  const load = (key) => { try { return JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { return {}; } };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));
  const outbox = load(keys.outbox);  // client_id -> {item_id, station, criterion_id, value, at}
  const stored = load(keys.stored);  // "item:station:criterion" -> acknowledged value
  const drafts = load(keys.drafts);  // "item:station:criterion" -> what the judge typed, not yet submitted
  const taken = load(keys.taken);    // "item:station:criterion" -> true: filled by another panel member
  const errors = {};                 // "item:station:criterion" -> last refusal message
  if (!localStorage.getItem(keys.device)) localStorage.setItem(keys.device, "tablet-" + uuid().slice(0, 8));

  // ------------------------------------------------------------------ connection
  // One socket at a time, and one timer: it reconnects a closed socket, or resends what a
  // server_error left in the outbox. Its delay doubles with every attempt (capped) and is jittered
  // (half fixed, half random), so a restarted server is not met by every tablet at once, and a
  // failing mark is resent once per round, never once per reply.
  const BASE = 1000, CAP = 15000;
  const PING_EVERY = 10000, SILENT_LIMIT = 25000, CONNECT_LIMIT = 10000;
  const FINAL = 4403; // close code: this account may not score; reconnecting cannot help
  let socket = null;
  let retryTimer = null;
  let attempts = 0;                 // reconnects since the last welcome, or resend rounds since the outbox emptied
  let lastHeard = 0;                // when the current socket opened or last received anything
  let stopped = null;               // the server's final word (not_a_judge): no more reconnecting
  let inflight = new Set();         // client_ids sent on the current socket and not yet answered
  let statusTimer = null;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
      const r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }
  const key = (item, station, criterion) => item + ":" + station + ":" + criterion;
  const itemById = (id) => config.items.find((i) => i.id === id);

  function setConn(state) {
    const el = document.getElementById("conn");
    el.dataset.state = state;
    el.className = "conn conn-" + state;
    el.textContent = text[state];
  }

  function retryLater() {
    if (retryTimer !== null || stopped) return;
    const delay = Math.min(CAP, BASE * 2 ** attempts++);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!socket) connect();
      else flush();
    }, delay / 2 + Math.random() * delay / 2);
  }

  function connect() {
    if (socket || stopped) return;
    if (!navigator.onLine) { setConn("offline"); return; }
    clearTimeout(retryTimer);
    retryTimer = null;
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/judge");
    socket = ws;
    inflight = new Set();
    lastHeard = Date.now();
    setConn("reconnecting");
    let opened = false;
    ws.onopen = () => {
      if (socket !== ws) return;
      opened = true;
      showSignIn(false);
      lastHeard = Date.now();
      setConn("connected");
      const now = status();
      reported = now.pending;
      ws.send(JSON.stringify(Object.assign({ type: "hello", device: localStorage.getItem(keys.device), app: config.app_version }, now)));
    };
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      lastHeard = Date.now();
      receive(JSON.parse(event.data));
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === FINAL) {
        stopped = document.getElementById("last-error").textContent || text.refused;
        setConn("refused");
        return;
      }
      if (!opened && attempts >= 2 && navigator.onLine) checkSession();
      setConn(navigator.onLine ? "reconnecting" : "offline");
      if (navigator.onLine) retryLater();
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

  const isOpen = () => socket && socket.readyState === WebSocket.OPEN;

  function send(clientId) {
    const mark = outbox[clientId];
    socket.send(JSON.stringify({ type: "mark", client_id: clientId, item_id: mark.item_id, station: mark.station,
      criterion_id: mark.criterion_id, value: mark.value }));
    inflight.add(clientId);
  }

  // One round: every mark of the outbox not already on its way.
  function flush() {
    if (!isOpen()) return;
    for (const clientId of Object.keys(outbox)) if (!inflight.has(clientId)) send(clientId);
  }

  // What the console shows about this tablet (device health): sent with hello and every ping, and
  // soon after the outbox changes.
  function status() {
    const times = Object.values(outbox).map((m) => m.at || Date.now());
    const oldest = times.length ? Math.max(0, Math.round((Date.now() - Math.min(...times)) / 1000)) : 0;
    return { pending: times.length, oldest_pending_age: oldest };
  }

  // A mark acknowledged within the half second leaves nothing new to say: no message then.
  let reported = 0;
  function reportSoon() {
    if (statusTimer !== null) return;
    statusTimer = setTimeout(() => {
      statusTimer = null;
      const now = status();
      if (isOpen() && (now.pending || reported)) ping(now);
    }, 500);
  }

  function ping(now) {
    reported = now.pending;
    socket.send(JSON.stringify(Object.assign({ type: "ping" }, now)));
  }

  function outboxChanged() {
    save(keys.outbox, outbox);
    if (!Object.keys(outbox).length) attempts = 0;
    reportSoon();
  }

  function receive(message) {
    if (message.type === "welcome") {
      attempts = 0;
      // The server is the truth for the items it names: forget stale local copies there.
      const items = new Set((message.items || []).map(String));
      for (const k of Object.keys(stored)) if (items.has(k.split(":")[0])) delete stored[k];
      for (const k of Object.keys(taken)) if (items.has(k.split(":")[0])) delete taken[k];
      for (const m of message.marks) stored[key(m.item_id, m.station, m.criterion_id)] = m.value;
      for (const c of message.taken || []) taken[key(c.item_id, c.station, c.criterion_id)] = true;
      save(keys.stored, stored);
      save(keys.taken, taken);
      flush();
    } else if (message.type === "taken") {
      for (const c of message.cells) taken[key(c.item_id, c.station, c.criterion_id)] = true;
      save(keys.taken, taken);
    } else if (message.type === "ack") {
      inflight.delete(message.client_id);
      const k = key(message.item_id, message.station, message.criterion_id);
      const mark = outbox[message.client_id];
      delete outbox[message.client_id];
      // An ack of an older value that a newer one replaced must not show as the stored value.
      if (mark || !pendingFor(message.item_id, message.station, message.criterion_id)) {
        stored[k] = message.value;
        delete errors[k];
      }
      save(keys.stored, stored);
      outboxChanged();
      if (!Object.keys(errors).length) document.getElementById("last-error").textContent = "";
    } else if (message.type === "error") {
      document.getElementById("last-error").textContent = message.message;
      const mark = message.client_id && outbox[message.client_id];
      if (message.client_id) inflight.delete(message.client_id);
      if (mark && message.code === "server_error") {
        retryLater(); // kept in the outbox, resent with the next round (a retry is never stored twice)
      } else if (mark) {
        // A refusal is final for this mark: drop it, show why on its criterion, keep the value
        // as a draft for the judge to correct.
        const k = key(mark.item_id, mark.station, mark.criterion_id);
        errors[k] = message.message;
        if (drafts[k] === undefined) drafts[k] = mark.value;
        save(keys.drafts, drafts);
        delete outbox[message.client_id];
        outboxChanged();
        if (message.code === "taken" || message.code === "panel_full") { taken[k] = true; save(keys.taken, taken); }
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
  window.addEventListener("online", () => { attempts = 0; connect(); });
  setInterval(() => {
    if (!socket) return;
    const silent = Date.now() - lastHeard;
    const stuck = socket.readyState === WebSocket.CONNECTING ? silent > CONNECT_LIMIT : silent > SILENT_LIMIT;
    if (stuck) {
      // A handshake that never finishes, or no answer to our pings: the network died without
      // telling the browser. Start over; the outbox is resent after the welcome.
      drop();
      setConn("reconnecting");
      retryLater();
    } else if (socket.readyState === WebSocket.OPEN) {
      ping(status());
    }
  }, PING_EVERY);

  // ------------------------------------------------------------------ marks
  // Full-width digits and points from a Chinese input method count as ordinary ones.
  const normalise = (raw) => String(raw).trim()
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48))
    .replace(/[\uFF0E\u3002]/g, ".");

  function check(criterion, raw) {
    const value = Number(raw);
    if (raw === "" || !/^[0-9]*\.?[0-9]+$|^[0-9]+\.$/.test(raw) || !isFinite(value)) return text.number;
    const max = criterion.worldskills ? 3 : Number(criterion.max);
    const step = criterion.worldskills ? 1 : Number(criterion.step);
    if (value < 0 || value > max) return text.range + " (0-" + max + ")";
    const steps = value / step;
    if (Math.abs(steps - Math.round(steps)) > 1e-9) return text.step + " (" + step + ")";
    return null;
  }

  // The value the cell holds as far as this tablet knows: on its way, or acknowledged.
  function currentValue(item, station, criterion) {
    const pending = pendingFor(item, station, criterion);
    return pending ? pending.value : stored[key(item, station, criterion)];
  }

  function submit(item, station, criterion, raw) {
    const value = normalise(raw);
    const k = key(item.id, station, criterion.id);
    if (value === "") { // erased: a mark cannot be withdrawn, the field shows what the cell holds again
      delete drafts[k]; delete errors[k]; save(keys.drafts, drafts); render(); return;
    }
    const problem = check(criterion, value);
    if (problem) { errors[k] = problem; drafts[k] = String(raw); save(keys.drafts, drafts); render(); return; }
    delete errors[k];
    delete drafts[k];
    save(keys.drafts, drafts);
    if (sameValue(value, currentValue(item.id, station, criterion.id))) { render(); return; } // nothing new to send
    // A newer value for the same cell replaces an unsent older one.
    for (const [id, mark] of Object.entries(outbox)) {
      if (mark.item_id === item.id && mark.station === station && mark.criterion_id === criterion.id) delete outbox[id];
    }
    const clientId = uuid();
    outbox[clientId] = { item_id: item.id, station: station, criterion_id: criterion.id, value: value, at: Date.now() };
    outboxChanged();
    if (isOpen()) send(clientId);
    render();
  }

  // 提交本工位: every valid draft of the station at once (drafts restored after a reload, say).
  function submitStation(item, station) {
    for (const c of item.criteria) {
      const k = key(item.id, station, c.id);
      if (draftOf(item.id, station, c.id) !== undefined) submit(item, station, c, drafts[k]);
    }
  }

  function pendingFor(item, station, criterion) {
    return Object.values(outbox).find((m) => m.item_id === item && m.station === station && m.criterion_id === criterion);
  }

  function sameValue(typed, held) {
    if (held === undefined) return false;
    const value = normalise(typed);
    return value === String(held) || (value !== "" && Number(value) === Number(held));
  }

  const isTaken = (item, station, criterion) =>
    taken[key(item, station, criterion)] === true && currentValue(item, station, criterion) === undefined;

  // Drafts that differ from what the cell holds: typed, not (yet) submitted.
  const draftOf = (item, station, criterion) => {
    const draft = drafts[key(item, station, criterion)];
    return draft === undefined || isTaken(item, station, criterion) || sameValue(draft, currentValue(item, station, criterion)) ? undefined : draft;
  };
  const unsubmitted = (item, station) => item.criteria.filter((c) => draftOf(item.id, station, c.id) !== undefined).length;

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

  const firstOpen = config.items.find((i) => i.status === "scoring") || config.items[0];
  let current = { item: firstOpen ? firstOpen.id : null, station: null };

  function render() {
    const pendingCount = Object.keys(outbox).length;
    document.getElementById("pending").textContent = pendingCount;
    document.getElementById("pending-box").dataset.count = pendingCount;
    const draftCount = config.items.reduce((n, item) => n + item.stations.reduce((m, s) => m + unsubmitted(item, s.no), 0), 0);
    document.getElementById("drafts").textContent = draftCount;
    document.getElementById("drafts-box").hidden = draftCount === 0;
    const tabs = document.getElementById("item-tabs");
    tabs.replaceChildren(...config.items.map((item) => {
      const drafted = item.stations.reduce((m, s) => m + unsubmitted(item, s.no), 0);
      const closed = item.closed || item.status !== "scoring";
      return el("button", { type: "button", class: "tab" + (item.id === current.item ? " active" : "") + (closed ? " closed" : ""),
        "data-item": item.id, "aria-pressed": item.id === current.item ? "true" : "false",
        onclick: () => { current = { item: item.id, station: null }; render(); } }, [
        el("span", { class: "tab-item", text: item.name }),
        el("span", { class: "tab-competition", text: item.competition }),
        drafted ? el("span", { class: "tab-drafts", text: drafted + " " + text.unsent }) : el("span", { hidden: "hidden" }),
      ]);
    }));
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
      const entered = item.criteria.filter((c) => currentValue(item.id, s.no, c.id) !== undefined || isTaken(item.id, s.no, c.id)).length;
      const done = entered === item.criteria.length;
      const pending = item.criteria.some((c) => pendingFor(item.id, s.no, c.id));
      const refused = cells.some((k) => errors[k]);
      const drafted = unsubmitted(item, s.no);
      const cls = ["station", s.blocked ? "blocked" : "", done ? "done" : entered ? "partial" : "", pending ? "pending" : "",
        drafted ? "drafted" : "", refused ? "refused" : "", current.station === s.no ? "active" : ""];
      const flag = s.blocked ? text.blocked : drafted ? drafted + " " + text.unsent : refused ? "!" : pending ? "…" : done ? "✓"
        : entered ? entered + "/" + item.criteria.length : "";
      return el("button", { type: "button", class: cls.filter(Boolean).join(" "), "data-station": s.no,
        disabled: s.blocked ? "disabled" : null, "aria-pressed": current.station === s.no ? "true" : "false",
        onclick: () => { current.station = s.no; render(); } },
        [el("span", { class: "no", text: String(s.no) }), el("span", { class: "flag", text: flag })]);
    }));
    const sheet = document.getElementById("sheet");
    sheet.hidden = current.station === null;
    if (current.station === null) return;
    document.getElementById("station-no").textContent = current.station;
    const drafted = unsubmitted(item, current.station);
    const all = document.getElementById("submit-station");
    all.hidden = drafted === 0;
    all.textContent = text.submit_station + " (" + drafted + ")";
    all.onclick = () => submitStation(item, current.station);
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
    const othersHaveIt = isTaken(item.id, station, c.id);
    const draft = draftOf(item.id, station, c.id);
    const state = othersHaveIt ? "taken" : draft !== undefined ? "draft" : pending ? "pending" : value !== undefined ? "saved" : "missing";
    const shown = draft !== undefined ? draft : value;
    const label = el("div", { class: "crit-label" }, [
      el("strong", { text: c.code + " " + c.name }),
      el("span", { class: "muted", text: " " + c.component + " · 0-" + (c.worldskills ? 3 : c.max) + (c.worldskills ? "" : " / " + c.step) }),
    ]);
    let input;
    if (othersHaveIt) {
      input = el("div", { class: "mark-entry taken-note", text: c.kind === "measurement" ? text.taken_measure : text.taken_panel });
    } else if (c.worldskills) {
      input = el("div", { class: "ws-buttons" }, [0, 1, 2, 3].map((n) =>
        el("button", { type: "button", class: "big" + (value !== undefined && String(value) === String(n) ? " chosen" : ""), text: String(n),
          "aria-pressed": value !== undefined && String(value) === String(n) ? "true" : "false",
          onclick: () => submit(item, station, c, n) })));
    } else {
      const field = el("input", { type: "text", inputmode: "decimal", enterkeyhint: "done", autocomplete: "off",
        class: "mark-input" + (draft !== undefined ? " edited" : ""),
        value: shown === undefined ? "" : shown, "data-criterion": c.id, "data-key": k, "aria-label": c.code + " " + c.name,
        // Every keystroke is kept (a reload or a change of station keeps it) ...
        oninput: (event) => { drafts[k] = event.target.value; save(keys.drafts, drafts); event.target.classList.add("edited"); },
        // ... and leaving the field submits it (after the focus has moved, so the next field keeps it).
        onchange: (event) => { const typed = event.target.value; setTimeout(() => submit(item, station, c, typed), 0); },
        onkeydown: (event) => { if (event.key === "Enter") { event.preventDefault(); submit(item, station, c, field.value); } } });
      input = el("div", { class: "mark-entry" }, [field,
        el("button", { type: "button", class: "primary big submit", text: text.submit, onclick: () => submit(item, station, c, field.value) })]);
    }
    const labels = { saved: "✓ " + text.saved, pending: "… " + text.pending, missing: "— " + text.missing, draft: "✎ " + text.unsent,
      taken: "✓ " + text.taken };
    const status = el("span", { class: "mark-state state-" + state, "data-state": state, text: labels[state] });
    const error = errors[k] ? el("div", { class: "error row-error", role: "alert", text: "! " + errors[k] }) : el("span", { hidden: "hidden" });
    return el("div", { class: "criterion state-" + state + (errors[k] ? " refused" : ""), "data-criterion": c.id }, [label, input, status, error]);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/tablet-sw.js", { scope: "/tablet" }).catch(() => {});
  }
  render();
  connect();
})();
