// The live board: a snapshot on (re)connect, then coalesced updates; each item carries its
// sequence number, so a reconnecting board asks only for the items it has not seen change.
//
// On a big screen it shows one page at a time and turns the pages by itself: an overview of the
// items, then each item's ranking in pages of as many rows as the screen holds. On a phone it
// shows everything as cards, one under another. URL parameters: ?interval=10 (seconds per page; else the
// competition's 大屏翻页间隔, data-interval),
// ?items=7,8 (which items, in that order of ids), ?theme=light (or dark, the default).
(function () {
  "use strict";
  const root = document.getElementById("board");
  const competition = root.dataset.competition;
  const items = {}; // item_id -> latest fragment
  const conn = document.getElementById("conn");
  // The page's strings, in the reader's language (board.html); the labels in the fragments are
  // Chinese, built once for every viewer, and looked up here.
  const T = JSON.parse(document.getElementById("board-text").textContent);
  const label = (text) => (text && T.labels[text]) || text;
  const english = document.documentElement.lang === "en";
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
  const params = readParams(new URLSearchParams(location.search));
  const phone = window.matchMedia("(max-width: 700px)");
  document.body.dataset.theme = params.theme;

  // The competition's setting (the organizer's form), printed into the page; 10 s if absent.
  function configuredInterval() {
    const seconds = Number(root.dataset.interval);
    return Number.isInteger(seconds) && seconds >= 1 ? seconds : 10;
  }

  function readParams(query) {
    const seconds = Number(query.get("interval"));
    const picked = (query.get("items") || "").split(/[,\s]+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
    return {
      interval: 1000 * (query.has("interval") && Number.isFinite(seconds) && seconds >= 1 ? Math.min(seconds, 3600) : configuredInterval()),
      items: picked.length ? new Set(picked) : null,
      theme: query.get("theme") === "light" ? "light" : "dark",
    };
  }

  // ---- The websocket (docs/live.md, "Boards"): what the server sends, kept apart from drawing. ----

  // Reconnecting: one timer, the delay doubling per failed attempt up to CAP, half of it random, so
  // thousands of boards do not all come back in the same instant after a restart or a Wi-Fi blip.
  const BASE = 1000, CAP = 30000;
  let attempts = 0;

  // One message from the server: keep, per item, the fragment with the highest seq. True if any was kept.
  function receive(message) {
    if (message.type !== "snapshot" && message.type !== "update") return false;
    attempts = 0; // the server answered: the next drop starts the back-off afresh
    let changed = message.type === "snapshot"; // even an empty one: the board then says so
    for (const item of message.items || []) {
      if (!items[item.item_id] || items[item.item_id].seq <= item.seq) {
        items[item.item_id] = item;
        changed = true;
      }
    }
    return changed;
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/board/" + competition);
    ws.onopen = () => {
      conn.dataset.state = "live";
      conn.title = T.live;
      const seqs = {};
      for (const [id, item] of Object.entries(items)) seqs[id] = item.seq;
      ws.send(JSON.stringify({ type: "hello", seqs: seqs }));
    };
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (receive(message)) render();
    };
    ws.onclose = () => {
      conn.dataset.state = "offline";
      conn.title = T.offline;
      const delay = Math.min(CAP, BASE * 2 ** attempts++);
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }

  // ---- Drawing. ----

  const PHASES = ["setup", "scoring", "locked", "revealed", "published", "final"];
  let page = 0; // the page on screen, counted from 0
  let rowsPerPage = 0; // measured on the screen (see measure), 0 until then

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function ordinal(place) {
    if (!place) return "—";
    if (!english) return fill(T.ordinal, { n: place });
    const tens = place % 100, ones = place % 10;
    const suffix = tens >= 11 && tens <= 13 ? "th" : ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th";
    return place + suffix;
  }

  function shown() {
    const all = Object.values(items).filter((item) => !params.items || params.items.has(item.item_id));
    return all.sort((a, b) => a.item_id - b.item_id);
  }

  // The competition's phase: the least advanced of its items that have started.
  function phase(list) {
    const started = list.filter((item) => item.status !== "setup" && PHASES.includes(item.status));
    if (!started.length) return list.length ? "setup" : null;
    return PHASES[Math.min(...started.map((item) => PHASES.indexOf(item.status)))];
  }

  function status(item) {
    const node = el("span", "status", label(item.status_label));
    node.dataset.status = item.status;
    return node;
  }

  function progress(item) {
    const box = el("div", "progress");
    box.dataset.stored = item.stored;
    box.dataset.expected = item.expected;
    box.appendChild(el("span", "progress-text", fill(T.scored, { stored: item.stored, expected: item.expected })));
    const bar = el("div", "bar");
    const done = el("div");
    done.style.width = (item.expected ? Math.min(100, (100 * item.stored) / item.expected) : 0) + "%";
    bar.appendChild(done);
    box.appendChild(bar);
    return box;
  }

  function headRow(cells) {
    const head = el("thead");
    const row = el("tr");
    for (const [cls, text] of cells) row.appendChild(el("th", cls, text));
    head.appendChild(row);
    return head;
  }

  // Pages of the big screen: the overview (when more than one item is shown), then each item's
  // ranking cut into pages of rowsPerPage rows (an item without a ranking: only when it is alone).
  function paginate(list, size) {
    const pages = [];
    if (list.length > 1) {
      for (let first = 0; first < list.length; first += size) pages.push({ kind: "overview", list: list, first: first, size: size });
    }
    for (const item of list) {
      if (item.ranking && item.ranking.length) {
        for (let first = 0; first < item.ranking.length; first += size) pages.push({ kind: "item", item: item, first: first, size: size });
      } else if (list.length === 1) {
        pages.push({ kind: "item", item: item, first: 0, size: size });
      }
    }
    return pages;
  }

  function overviewPage(spec) {
    const section = el("section", "overview");
    const head = el("div", "item-head");
    head.appendChild(el("h2", "item-name", T.overview));
    head.appendChild(el("span", "count", fill(T.items_count, { n: spec.list.length })));
    section.appendChild(head);
    const box = el("div", "rows-box");
    const table = el("table", "items");
    table.appendChild(headRow([["item-name", T.item], ["status-col", T.status], ["progress-col", T.progress]]));
    const body = el("tbody");
    for (const item of spec.list.slice(spec.first, spec.first + spec.size)) {
      const row = el("tr");
      row.dataset.item = item.item_id;
      row.appendChild(el("td", "item-name", item.name));
      const state = el("td", "status-col");
      state.appendChild(status(item));
      row.appendChild(state);
      const done = el("td", "progress-col");
      done.appendChild(progress(item));
      row.appendChild(done);
      body.appendChild(row);
    }
    table.appendChild(body);
    box.appendChild(table);
    section.appendChild(box);
    return section;
  }

  function itemHead(item) {
    const head = el("div", "item-head");
    head.appendChild(el("h2", "item-name", item.name));
    head.appendChild(status(item));
    head.appendChild(progress(item));
    return head;
  }

  function itemPage(spec) {
    const item = spec.item;
    const section = el("section", "item");
    section.dataset.item = item.item_id;
    section.dataset.seq = item.seq;
    section.appendChild(itemHead(item));
    const box = el("div", "rows-box");
    if (!item.ranking || !item.ranking.length) {
      box.appendChild(el("p", "notice", item.status === "setup" ? T.not_started : item.ranking ? T.empty : T.no_ranking));
      section.appendChild(box);
      return section;
    }
    const table = el("table", "ranking" + (item.revealed ? " revealed" : ""));
    const cells = [["place", T.place], ["station", T.station]];
    if (item.revealed) cells.push(["name", T.name], ["unit", T.unit]);
    cells.push(["total", T.total], ["award", T.award]);
    table.appendChild(headRow(cells));
    const body = el("tbody");
    for (const line of item.ranking.slice(spec.first, spec.first + spec.size)) {
      const row = el("tr");
      row.dataset.station = line.station;
      if (line.place) row.dataset.place = line.place;
      row.appendChild(el("td", "place", ordinal(line.place)));
      row.appendChild(el("td", "station", line.station));
      if (item.revealed) {
        row.appendChild(el("td", "name", line.name));
        row.appendChild(el("td", "unit", line.unit));
      }
      row.appendChild(el("td", "total", line.total || "—"));
      row.appendChild(el("td", "award", label(line.award)));
      body.appendChild(row);
    }
    table.appendChild(body);
    box.appendChild(table);
    section.appendChild(box);
    section.dataset.range = fill(T.rows_of, {
      first: spec.first + 1, last: Math.min(item.ranking.length, spec.first + spec.size), n: item.ranking.length,
    });
    return section;
  }

  // How many ranking rows the screen holds: draw a page with one row and measure it.
  function measure() {
    const probe = { item_id: 0, name: "—", status: "scoring", status_label: "", seq: 0, stored: 0, expected: 0, revealed: true,
      ranking: [{ place: 1, station: 1, total: "100.00", award: "", name: "—", unit: "—" }] };
    const section = itemPage({ item: probe, first: 0, size: 1 });
    root.replaceChildren(section);
    const box = section.querySelector(".rows-box");
    const head = section.querySelector("thead");
    const row = section.querySelector("tbody tr");
    const rows = Math.floor((box.clientHeight - head.offsetHeight) / Math.max(1, row.offsetHeight));
    rowsPerPage = Math.max(1, rows);
  }

  function drawPhone(list) {
    const sections = list.map((item) => {
      const section = el("section", "item");
      section.dataset.item = item.item_id;
      section.dataset.seq = item.seq;
      section.appendChild(itemHead(item));
      if (!item.ranking || !item.ranking.length) {
        section.appendChild(el("p", "notice", item.status === "setup" ? T.not_started : item.ranking ? T.empty : T.no_ranking));
        return section;
      }
      const cards = el("ol", "cards");
      for (const line of item.ranking) {
        const card = el("li", "card-row");
        card.dataset.station = line.station;
        if (line.place) card.dataset.place = line.place;
        card.appendChild(el("span", "place", ordinal(line.place)));
        const who = el("span", "who");
        if (item.revealed) {
          who.appendChild(el("span", "name", line.name));
          who.appendChild(el("span", "unit", line.unit));
        }
        who.appendChild(el("span", "station", T.station + " " + line.station));
        card.appendChild(who);
        const score = el("span", "score");
        score.appendChild(el("span", "total", line.total || "—"));
        if (line.award) score.appendChild(el("span", "award", label(line.award)));
        card.appendChild(score);
        cards.appendChild(card);
      }
      section.appendChild(cards);
      return section;
    });
    root.replaceChildren(...sections);
    root.dataset.page = "1";
    root.dataset.pages = "1";
    document.getElementById("page-label").textContent = "";
    document.getElementById("page-dots").replaceChildren();
  }

  function render() {
    const list = shown();
    const current = phase(list);
    document.getElementById("phase").textContent = current ? T.phases[current] : "—";
    document.body.dataset.phase = current || "";
    if (phone.matches) return drawPhone(list);
    if (!rowsPerPage) measure();
    const pages = paginate(list, rowsPerPage);
    if (page >= pages.length) page = 0;
    const spec = pages[page];
    const nothing = el("section", "overview");
    nothing.appendChild(el("p", "notice", T.empty)); // no such items (?items=), or none yet
    root.replaceChildren(spec ? (spec.kind === "overview" ? overviewPage(spec) : itemPage(spec)) : nothing);
    root.dataset.page = spec ? page + 1 : 0;
    root.dataset.pages = pages.length;
    const range = root.querySelector("section.item[data-range]");
    const where = pages.length > 1 ? fill(T.page, { page: page + 1, pages: pages.length }) : "";
    document.getElementById("page-label").textContent = [where, range ? range.dataset.range : ""].filter(Boolean).join(" · ");
    const dots = document.getElementById("page-dots");
    dots.replaceChildren(...(pages.length > 1 ? pages.map((_, n) => el("span", n === page ? "dot on" : "dot")) : []));
  }

  function turn() {
    if (phone.matches) return;
    page += 1; // render wraps round to the first page
    render();
  }

  function tick() {
    const now = new Date();
    const two = (n) => String(n).padStart(2, "0");
    document.getElementById("clock").textContent = two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds());
  }

  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => { rowsPerPage = 0; render(); }, 200);
  });
  phone.addEventListener("change", () => { rowsPerPage = 0; render(); });
  tick();
  setInterval(tick, 1000);
  setInterval(turn, params.interval);
  connect();
})();
