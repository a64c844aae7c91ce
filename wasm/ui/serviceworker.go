package ui

// serviceWorkerJS is go-app v9.8.0's default app-worker.js template with one
// change: on activation it deletes only go-app's own outdated "app-<version>"
// caches, not every other cache of the origin, so the models the inference
// worker keeps in the "vggo-models-v1" cache survive app updates. The push
// notification handlers are left out (the app sends none).
//
// The fetch handler answers from any cache first and falls back to the
// network, which is what makes the app start offline after the first visit.
const serviceWorkerJS = `const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};

self.addEventListener("install", (event) => {
  console.log("installing app worker {{.Version}}");

  event.waitUntil(
    caches
      .open(cacheName)
      .then((cache) => {
        return cache.addAll(resourcesToCache);
      })
      .then(() => {
        self.skipWaiting();
      })
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keyList) => {
      return Promise.all(
        keyList.map((key) => {
          if (key.startsWith("app-") && key !== cacheName) {
            return caches.delete(key);
          }
        })
      );
    })
  );
  console.log("app worker {{.Version}} is activated");
});

self.addEventListener("fetch", (event) => {
  event.respondWith(
    caches.match(event.request).then((response) => {
      return response || fetch(event.request);
    })
  );
});
`
