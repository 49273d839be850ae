// TFTSR service worker.
//
// It caches only what holds no incident data: the compiled app (wasm, JS,
// CSS), icons and the offline page. Pages and server-function replies are
// never cached, because the browser's cache is not encrypted and TFTSR
// promises that incident data rests only in its encrypted database.
//
// Compiled assets are fetched network-first (their names carry no hash, so a
// cache-first policy would serve an old build after an upgrade) and fall back
// to the cache when the local server is down. Navigations that fail show the
// offline page.

const CACHE = "tftsr-shell-v1";
const SHELL = ["/offline.html", "/pkg/tftsr.css", "/pkg/tftsr.js", "/pkg/tftsr.wasm", "/icons/icon.svg", "/favicon.ico"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function isShellAsset(url) {
  return url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/icons/") ||
    url.pathname === "/favicon.ico" || url.pathname === "/offline.html";
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline.html")));
    return;
  }
  if (isShellAsset(url)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request).then((hit) => hit || Response.error()))
    );
  }
});
