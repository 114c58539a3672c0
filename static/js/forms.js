// Organizer and finance forms (docs/organizer.md):
// - a form with data-confirm asks first, in the page's <dialog id="confirm-dialog">: the message
//   names what will happen; data-confirm-ok labels the button, data-confirm-danger makes it red.
//   Plain forms are submitted again once confirmed; htmx requests wait on htmx:confirm. Without
//   JavaScript the form simply posts (the server checks every action anyway).
// - after a refused save, the first field marked invalid gets the focus (and scrolls into view).
// - "已保存" (#flash) fades after a while, or at a click.
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
})();
