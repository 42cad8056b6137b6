// KratomWatch service worker, release __VERSION__. Served by Django (views/pwa.py).
"use strict";
const CONFIG = {{ config|safe }};
const CACHE = "kratomwatch-__VERSION__";
// The check-ins kept on the phone with no connection (shared with the pages).
importScripts(CONFIG.queue);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(CONFIG.precache)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

// Background Sync, where the browser has it: send what the phone kept once the connection
// returns, even with the app closed. Not all sent: the browser tries again later; the pages
// also send on their next visit.
self.addEventListener("sync", (event) => {
  if (event.tag !== "kratomwatch-outbox") return;
  event.waitUntil(
    self.kwQueue.flush().then((done) => {
      if (done.waiting) throw new Error("kept entries not sent yet");
    })
  );
});

async function page(request) {
  const path = new URL(request.url).pathname;
  try {
    const response = await fetch(request);
    // The patient's own pages are kept as last seen, to be shown when the network is gone.
    if (response.ok && !response.redirected && CONFIG.pages.includes(path)) {
      const cache = await caches.open(CACHE);
      await cache.put(path, response.clone());
    }
    return response;
  } catch (error) {
    const kept = (await caches.match(path)) || (await caches.match(CONFIG.offline));
    return kept || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
    return;
  }
  const path = new URL(request.url).pathname;
  if (CONFIG.precache.includes(path)) {
    event.respondWith(caches.match(path).then((kept) => kept || fetch(request)));
  }
});

// Web Push (views/push.py, clinic/push.py): show the reminder or alert the server sent. The
// payload is JSON with title, body and url; it names no patient and no health detail. A
// click opens (or focuses) that page, on this site only.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  const title = typeof message.title === "string" && message.title ? message.title : "KratomWatch";
  const body = typeof message.body === "string" ? message.body : "";
  let url = "/";
  try {
    const target = new URL(message.url || "/", self.location.origin);
    if (target.origin === self.location.origin) {
      url = target.pathname + target.search + target.hash;
    }
  } catch (error) {
    url = "/";
  }
  event.waitUntil(
    self.registration.showNotification(title, {
      body: body,
      data: { url: url },
      icon: CONFIG.precache.find((path) => path.endsWith("icon-192.png")),
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const wanted = (event.notification.data && event.notification.data.url) || "/";
  const target = new URL(wanted, self.location.origin);
  if (target.origin !== self.location.origin) {
    return;
  }
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).pathname === target.pathname && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
