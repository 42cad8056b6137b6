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
        if (!r.ok) { throw new Error(data.error || ""); }
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

  registration().then(function (reg) {
    return reg.pushManager.getSubscription();
  }).then(function (sub) { show(!!sub); }, function () {
    say(text("unsupported"));
  });

  on.addEventListener("click", function () {
    on.disabled = true;
    say(text("asking"));
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error(text("refused"));
      }
      return registration();
    }).then(function (reg) {
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(box.dataset.vapidKey) });
    }).then(function (sub) {
      return post(box.dataset.subscribeUrl, sub.toJSON());
    }).then(function () { show(true); }, function (error) {
      // The server's or the browser's own words, if any, then what still works.
      var reason = error && error.message ? error.message + " " : "";
      say(reason === text("refused") + " " ? text("refused") : reason + text("not-on"));
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
      say((error && error.message ? error.message + " " : "") + text("not-off"));
    }).then(function () { off.disabled = false; });
  });
})();
