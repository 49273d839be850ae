// Registers the service worker (see sw.js for what it caches, and why not more).
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((err) => console.warn("service worker not registered", err));
  });
}
