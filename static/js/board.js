// The live board: a snapshot on (re)connect, then coalesced updates; each item carries its
// sequence number, so a reconnecting board asks only for the items it has not seen change.
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
  // Reconnecting: one timer, the delay doubling per failed attempt up to CAP, half of it random, so
  // thousands of boards do not all come back in the same instant after a restart or a Wi-Fi blip.
  const BASE = 1000, CAP = 30000;
  let attempts = 0;

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
      const message = JSON.parse(event.data);
      if (message.type !== "snapshot" && message.type !== "update") return;
      attempts = 0; // the server answered: the next drop starts the back-off afresh
      for (const item of message.items) {
        if (!items[item.item_id] || items[item.item_id].seq <= item.seq) items[item.item_id] = item;
      }
      render();
    };
    ws.onclose = () => {
      conn.dataset.state = "offline";
      conn.title = T.offline;
      const delay = Math.min(CAP, BASE * 2 ** attempts++);
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    };
  }

  function cell(tag, text, cls) {
    const node = document.createElement(tag);
    node.textContent = text === null || text === undefined ? "" : text;
    if (cls) node.className = cls;
    return node;
  }

  function render() {
    const cards = Object.values(items).sort((a, b) => a.item_id - b.item_id).map((item) => {
      const card = document.createElement("section");
      card.className = "item";
      card.dataset.item = item.item_id;
      card.dataset.seq = item.seq;
      const title = cell("h2", item.name);
      const status = cell("span", label(item.status_label), "status");
      status.dataset.status = item.status;
      title.appendChild(status);
      card.appendChild(title);
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.width = (item.expected ? (100 * item.stored) / item.expected : 0) + "%";
      bar.appendChild(fill);
      card.appendChild(bar);
      card.appendChild(cell("div", item.stored + " / " + item.expected, "progress"));
      if (item.ranking) {
        const table = document.createElement("table");
        const head = document.createElement("tr");
        head.appendChild(cell("th", T.place, "place"));
        head.appendChild(cell("th", T.station, "station"));
        if (item.revealed) { head.appendChild(cell("th", T.name)); head.appendChild(cell("th", T.unit)); }
        head.appendChild(cell("th", T.total, "total"));
        head.appendChild(cell("th", "", "award"));
        table.appendChild(head);
        for (const line of item.ranking) {
          const row = document.createElement("tr");
          row.dataset.station = line.station;
          row.appendChild(cell("td", line.place || "—", "place"));
          row.appendChild(cell("td", line.station, "station"));
          if (item.revealed) { row.appendChild(cell("td", line.name, "name")); row.appendChild(cell("td", line.unit)); }
          row.appendChild(cell("td", line.total || "—", "total"));
          row.appendChild(cell("td", label(line.award), "award"));
          table.appendChild(row);
        }
        card.appendChild(table);
      }
      return card;
    });
    root.replaceChildren(...cards);
  }

  connect();
})();
