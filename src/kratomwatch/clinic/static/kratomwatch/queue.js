// Entries made on the phone with no connection, kept in IndexedDB until the server has them.
// Loaded by the patient's pages and by the service worker (Background Sync), which share it.
//
// Each entry is the form as entered (name/value pairs), its idempotency key and the moment it
// was entered. Sending posts the pairs with that moment and asks for JSON; the server stores
// a key once, so an entry sent twice (a retry after a lost answer, two tabs, the worker and a
// page at once) is saved once. An entry leaves the phone only when the server says it has it
// (saved now or before); an entry the server refuses is kept, with the server's reasons, for
// the patient to open and correct. Nothing else removes an entry but the patient's "discard".
(function (scope) {
  "use strict";
  var DB = "kratomwatch", STORE = "outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function put(entry) { return run("readwrite", function (s) { s.put(entry); }); }
  function remove(key) { return run("readwrite", function (s) { s.delete(key); }); }
  function get(key) { return run("readonly", function (s) { return s.get(key); }); }
  function all() {
    return run("readonly", function (s) { return s.getAll(); }).then(function (entries) {
      return (entries || []).sort(function (a, b) { return a.entered_at < b.entered_at ? -1 : 1; });
    });
  }

  // One entry sent: "sent" (the server has it), "refused" (kept with the reasons), "skip"
  // (kept as it was: another patient's on a shared phone, or a server error; the others are
  // still sent) or "stop" (no connection, or signed out: nothing more can be sent now).
  function sendOne(entry, csrf) {
    var body = new URLSearchParams();
    entry.pairs.forEach(function (pair) {
      if (pair[0] !== "csrfmiddlewaretoken" && pair[0] !== "entered_at") body.append(pair[0], pair[1]);
    });
    body.set("idempotency_key", entry.key);
    body.set("entered_at", entry.entered_at);
    if (entry.owner) body.set("owner", entry.owner);
    body.set("csrfmiddlewaretoken", csrf || entry.csrf || "");
    return fetch(entry.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.redirected) return "stop";
      if (!json) return response.status >= 500 ? "skip" : "stop";
      return response.json().then(function (answer) {
        if (response.ok && answer.saved) return remove(entry.key).then(function () { return "sent"; });
        if (response.status === 400) {
          entry.state = "refused";
          entry.errors = answer.errors || [];
          return put(entry).then(function () { return "refused"; });
        }
        return "skip";
      });
    }, function () { return "stop"; });
  }

  // An entry being sent by its own page (the form posted as usual) is left to that page for
  // a while; if the page never heard back, it is sent like the others.
  var SENDING_GRACE = 30 * 1000;

  // Send every waiting entry (of ``owner``, when given), oldest first, until nothing more
  // can be sent now. Refused entries wait for the patient. Returns counts of what happened.
  function flush(csrf, owner) {
    var work = function () {
      return all().then(function (entries) {
        var done = { sent: 0, refused: 0, waiting: 0 };
        var now = Date.now();
        var waiting = entries.filter(function (e) {
          if (e.state === "refused" || (owner && e.owner && e.owner !== owner)) return false;
          return !(e.state === "sending" && now - (e.sending_since || 0) < SENDING_GRACE);
        });
        return waiting.reduce(function (chain, entry) {
          return chain.then(function (stop) {
            if (stop) { done.waiting += 1; return true; }
            return sendOne(entry, csrf).then(function (outcome) {
              if (outcome === "stop" || outcome === "skip") { done.waiting += 1; return outcome === "stop"; }
              done[outcome] += 1;
              return false;
            });
          });
        }, Promise.resolve(false)).then(function () { return done; });
      });
    };
    // One sender at a time across the pages and the worker, where the browser can say so.
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request("kratomwatch-outbox", work);
    }
    return work();
  }

  scope.kwQueue = { put: put, get: get, all: all, remove: remove, flush: flush };
})(self);
