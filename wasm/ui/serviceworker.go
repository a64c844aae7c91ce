package ui

// serviceWorkerJS is go-app v9.8.0's default app-worker.js template with two
// changes: on activation it deletes only go-app's own outdated "app-<version>"
// caches, not every other cache of the origin, so the models the inference
// worker keeps in the "vggo-models-v1" cache survive app updates; and page
// navigations match the cache ignoring the query string, so /bench?runs=3
// opens offline like /bench. The push
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
  // A page opened with a query string (/bench?runs=3) is the cached page.
  const options = event.request.mode === "navigate" ? { ignoreSearch: true } : undefined;
  event.respondWith(
    caches.match(event.request, options).then((response) => {
      return response || fetch(event.request);
    })
  );
});
`
