// Organizer and finance forms (docs/organizer.md):
// - a form with data-confirm asks first, in the page's <dialog id="confirm-dialog">: the message
//   names what will happen; data-confirm-ok labels the button, data-confirm-danger makes it red.
//   Plain forms are submitted again once confirmed; htmx requests wait on htmx:confirm. Without
//   JavaScript the form simply posts (the server checks every action anyway).
// - after a refused save, the first field marked invalid gets the focus (and scrolls into view).
// - signing out (the header's form with data-logout) forgets the judge's tablet on this device: the
//   tablet page kept for offline use (the service worker's cache) and the marks it shows. Marks not
//   yet sent (the outbox) or typed and not submitted (drafts) are never thrown away: the judge is
//   warned first, and they stay on the device under that account, to be sent when it signs in
//   again; no other account sees them. Any page showing another account, or none, also deletes a
//   kept tablet page of someone else (a sign-out in another tab, an expired session).
// - "已保存" (#flash) fades after a while, or at a click.
// - a refused htmx request's message shows in #request-error (contest.web.errors sends it there);
//   it goes once a request of the same element succeeds (the search typed again, the picker).
(function () {
  "use strict";
  const dialog = document.getElementById("confirm-dialog");
  const confirmed = new WeakSet();
  const okButton = document.getElementById("confirm-ok");
  const okLabel = okButton ? okButton.textContent : "";

  function ask(source, proceed) {
    if (!dialog || typeof dialog.showModal !== "function") { proceed(); return; }
    const ok = okButton;
    document.getElementById("confirm-message").textContent = source.dataset.confirm;
    ok.textContent = source.dataset.confirmOk || okLabel;
    ok.classList.toggle("danger", Boolean(source.dataset.confirmDanger));
    ok.classList.toggle("primary", !source.dataset.confirmDanger);
    dialog.returnValue = "";
    dialog.addEventListener("close", function closed() {
      if (dialog.returnValue === "ok") proceed();
    }, { once: true });
    dialog.showModal();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return; // htmx:confirm below
    if (confirmed.has(form)) { confirmed.delete(form); return; }
    event.preventDefault();
    const submitter = event.submitter;
    ask(form, () => {
      confirmed.add(form);
      if (typeof form.requestSubmit === "function") form.requestSubmit(submitter || undefined);
      else form.submit();
    });
  }, true);

  document.addEventListener("htmx:confirm", (event) => {
    const source = event.detail.elt.closest("[data-confirm]");
    if (!source || !(source.hasAttribute("hx-post") || source.hasAttribute("hx-get"))) return;
    event.preventDefault();
    ask(source, () => event.detail.issueRequest(true));
  });

  // ------------------------------------------------------------------ the tablet on a shared device
  const TABLET_CACHES = "contest-tablet-";
  const signedIn = document.body.dataset.user || "";

  // The kept tablet pages that belong to anyone but `keep` ("" keeps none) are deleted.
  async function forgetTabletPages(keep) {
    if (!window.caches) return;
    for (const name of await caches.keys()) {
      if (!name.startsWith(TABLET_CACHES)) continue;
      const cache = await caches.open(name);
      const kept = await cache.match("/tablet");
      if (!kept) continue;
      const page = new DOMParser().parseFromString(await kept.text(), "text/html");
      if (!keep || page.body.dataset.user !== keep) await cache.delete("/tablet");
    }
  }

  const storageKey = (kind, user) => "contest." + kind + "." + user;
  function countOf(kind, user) {
    try { return Object.keys(JSON.parse(localStorage.getItem(storageKey(kind, user))) || {}).length; } catch (e) { return 0; }
  }

  // What the server gave the tablet (stored and taken marks) goes; what the judge entered and the
  // server has not yet got stays, if there is any.
  function forgetJudge(user) {
    try {
      localStorage.removeItem(storageKey("stored", user));
      localStorage.removeItem(storageKey("taken", user));
      for (const kind of ["outbox", "drafts"]) if (!countOf(kind, user)) localStorage.removeItem(storageKey(kind, user));
    } catch (e) { /* storage unavailable: nothing kept either */ }
  }

  const signingOut = new WeakSet();
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-logout") || !signedIn) return;
    if (signingOut.has(form)) return;
    event.preventDefault();
    const leave = () => {
      signingOut.add(form);
      forgetJudge(signedIn);
      forgetTabletPages("").catch(() => {}).finally(() => form.submit());
    };
    const unsent = countOf("outbox", signedIn) + countOf("drafts", signedIn);
    if (!unsent) { leave(); return; }
    ask({ dataset: { confirm: form.dataset.unsent.replace("{n}", unsent), confirmOk: form.dataset.unsentOk, confirmDanger: "1" } }, leave);
  }, true);

  forgetTabletPages(signedIn).catch(() => {});

  const saved = document.getElementById("flash");
  if (saved) {
    const fade = () => saved.classList.add("faded");
    saved.addEventListener("click", fade);
    setTimeout(fade, 8000);
  }

  const invalid = document.querySelector("main [aria-invalid=true]:not(tr)");
  if (invalid) {
    const details = invalid.closest("details");
    if (details) details.open = true;
    invalid.focus();
  }

  // ------------------------------------------------------------------ refused htmx requests
  let refusedBy = null;
  document.addEventListener("htmx:afterRequest", (event) => {
    const shown = document.getElementById("request-error");
    if (!shown) return;
    if (event.detail.failed) { refusedBy = event.detail.elt; return; }
    if (event.detail.successful && event.detail.elt === refusedBy) {
      shown.replaceChildren();
      refusedBy = null;
    }
  });
})();
