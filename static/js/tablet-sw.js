// The judge's tablet offline: this service worker keeps the tablet page and its assets, so the page
// opens and reloads with no network (the marks wait in the page's outbox, see tablet.js).
// Served at /tablet-sw.js by the server (live/offline.py), which fills in VERSION and ASSETS; a new
// version (any change of the server's static files or the tablet's templates) installs a new worker,
// which replaces the cache.
"use strict";
const VERSION = "__VERSION__";
const ASSETS = ["__ASSETS__"];
const PREFIX = "contest-tablet-";
const CACHE = PREFIX + VERSION;
const PAGE = "/tablet";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    await savePage(cache, await fetch(PAGE, { cache: "reload", credentials: "same-origin" }).catch(() => null));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) event.respondWith(pageFirstFromNetwork(request));
  else if (url.pathname.startsWith("/static/")) event.respondWith(assetFromCache(request));
});

// Only a real tablet page is kept: never a redirect to the sign-in page, never an error.
async function savePage(cache, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") await cache.put(PAGE, response.clone());
}

// The page: from the network while there is one (it carries the judge's items and marks), else the
// copy kept from the last time: when the network fails, and when the server answers with an error
// (a 502/503 from the proxy, a 5xx while the app restarts), so a judge who reloads keeps scoring.
// The copy belongs to the judge signed in when it was kept: signing out, or any page showing
// another account or none, deletes it (static/js/forms.js), so it is never shown to someone else.
async function pageFirstFromNetwork(request) {
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const kept = await cache.match(PAGE);
    if (kept) return kept;
    throw error;
  }
  if (response.status >= 500) {
    const kept = await cache.match(PAGE);
    if (kept) return kept;
  }
  await savePage(cache, response);
  return response;
}

// Assets: this version's copy; anything not yet kept is fetched and kept.
async function assetFromCache(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
