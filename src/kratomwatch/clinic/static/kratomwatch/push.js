// Notifications on this device (Web Push): ask permission, subscribe with the server's VAPID
// public key, and send the subscription to the server; or end it. Loaded only on the pages
// where a user chooses how to be reminded or alerted. When the browser cannot do it, say so
// plainly: e-mail stays available.
(function () {
  "use strict";
  var box = document.querySelector("[data-push]");
  if (!box) { return; }
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  var status = box.querySelector("[data-push-status]");
  var token = box.querySelector("input[name=csrfmiddlewaretoken]").value;

  // The texts come from the page, in the page's language.
  function text(name) { return box.getAttribute("data-msg-" + name) || ""; }
  function say(message) { status.textContent = message; }

  function key(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var refusal = new Error(data.error || "");
          refusal.ours = true;  // the server's own words, in the page's language
          throw refusal;
        }
        return data;
      });
    });
  }

  function show(subscribed) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    say(text(subscribed ? "on" : "off"));
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(text("unsupported"));
    return;
  }
  if (Notification.permission === "denied") {
    say(text("blocked"));
    return;
  }

  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  // A subscription this browser holds is sent again: the server may have dropped it (the
  // push service renewed it, or another person signed in on this phone since).
  registration().then(function (reg) {
    return reg.pushManager.getSubscription();
  }).then(function (sub) {
    show(!!sub);
    if (sub) { post(box.dataset.subscribeUrl, sub.toJSON()).catch(function () {}); }
  }, function () {
    say(text("unsupported"));
  });

  on.addEventListener("click", function () {
    on.disabled = true;
    say(text("asking"));
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        var refused = new Error(text("refused"));
        refused.ours = true;
        throw refused;
      }
      return registration();
    }).then(function (reg) {
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(box.dataset.vapidKey) });
    }).then(function (sub) {
      // Refused by the server: the browser lets go of it too, so both agree it is off.
      return post(box.dataset.subscribeUrl, sub.toJSON()).catch(function (error) {
        return sub.unsubscribe().then(function () { throw error; }, function () { throw error; });
      });
    }).then(function () { show(true); }, function (error) {
      // Our own words (the server's refusal, a permission not given), then what still
      // works; the browser's own messages are not in the page's language, so not shown.
      if (error && error.ours && error.message === text("refused")) { say(text("refused")); return; }
      say((error && error.ours && error.message ? error.message + " " : "") + text("not-on"));
    }).then(function () { on.disabled = false; });
  });

  off.addEventListener("click", function () {
    off.disabled = true;
    registration().then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      if (!sub) { return null; }
      var endpoint = sub.endpoint;
      return sub.unsubscribe().then(function () { return post(box.dataset.unsubscribeUrl, { endpoint: endpoint }); });
    }).then(function () { show(false); }, function (error) {
      say((error && error.ours && error.message ? error.message + " " : "") + text("not-off"));
    }).then(function () { off.disabled = false; });
  });
})();
