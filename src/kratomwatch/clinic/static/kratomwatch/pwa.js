// The patient app on the phone: register the service worker, say plainly when the server
// cannot be reached, and send what was kept on the phone (queue.js) once it can be. Whether
// the server answers is asked of the server itself: a phone can be "online" on a network that
// reaches nothing.
(function () {
  "use strict";
  var patient = document.body.classList.contains("with-patient-nav");
  if (patient && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  var textsNode = document.getElementById("kw-texts");
  var T = textsNode ? JSON.parse(textsNode.textContent) : {
    offline: "You are offline: what you enter cannot be sent until the connection returns.",
    urgent_link: "Severe symptoms: see what to do now"
  };
  function say(name, values) {
    return T[name].replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? values[k] : m; });
  }
  var queue = patient && window.kwQueue && window.indexedDB ? window.kwQueue : null;
  // Whose pages these are: on a shared phone, only their own kept check-ins are theirs.
  var owner = document.body.getAttribute("data-owner") || "";
  function mine(entry) { return !entry.owner || entry.owner === owner; }
  var main = document.getElementById("main") || document.body;
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- reachability: a banner, and send buttons that cannot send disabled. The check-in
  // form keeps its button: with no connection it keeps the check-in on the phone.
  var banner = null;
  function buttons() {
    return document.querySelectorAll("main form[method=post]:not([data-offline-queue]) button[type=submit]");
  }
  function set(reachable) {
    document.documentElement.setAttribute("data-reachable", reachable ? "yes" : "no");
    if (reachable) {
      if (banner) { banner.remove(); banner = null; }
      buttons().forEach(function (b) { if (b.hasAttribute("data-offline")) { b.disabled = false; b.removeAttribute("data-offline"); } });
      send();
      return;
    }
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "offline-banner";
      banner.setAttribute("role", "alert");
      var text = document.createElement("span");
      text.textContent = T.offline + " ";
      var link = document.createElement("a");
      link.href = "/urgent/";
      link.textContent = T.urgent_link;
      banner.appendChild(text);
      banner.appendChild(link);
      main.prepend(banner);
    }
    buttons().forEach(function (b) { if (!b.disabled) { b.disabled = true; b.setAttribute("data-offline", ""); } });
    show();
  }
  function check() {
    // A network that reaches nothing may never answer: five seconds is no answer.
    var options = { cache: "no-store", credentials: "omit" };
    if (window.AbortController) {
      var abort = new AbortController();
      setTimeout(function () { abort.abort(); }, 5000);
      options.signal = abort.signal;
    }
    return fetch("/api/health", options).then(
      function (r) { return r.ok || r.status < 500; },
      function () { return false; }
    ).then(set);
  }

  // --- what is kept on the phone: sent when the server answers; what is waiting or was
  // refused is listed at the top of the page.
  var status = null;
  var lastSent = 0;
  function show() {
    if (!queue) return Promise.resolve();
    return queue.all().then(function (entries) {
      entries = entries.filter(mine);
      if (status) { status.remove(); status = null; }
      var waiting = entries.filter(function (e) { return e.state !== "refused"; });
      var refused = entries.filter(function (e) { return e.state === "refused"; });
      if (!waiting.length && !refused.length && !lastSent) return;
      status = document.createElement("section");
      status.className = "queue-status";
      status.id = "queue-status";
      status.setAttribute("role", "status");
      if (lastSent) {
        var sent = document.createElement("p");
        sent.className = "msg";
        sent.textContent = say("sent", { n: lastSent });
        status.appendChild(sent);
      }
      if (waiting.length) {
        var wait = document.createElement("p");
        wait.className = "offline-banner";
        wait.textContent = say("waiting", { n: waiting.length });
        status.appendChild(wait);
      }
      refused.forEach(function (entry) {
        var when = new Date(entry.entered_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
        var box = document.createElement("div");
        box.className = "error-summary";
        var p = document.createElement("p");
        p.textContent = say("refused", { date: when });
        box.appendChild(p);
        var list = document.createElement("ul");
        (entry.errors || []).forEach(function (text) {
          var li = document.createElement("li");
          li.textContent = text;
          list.appendChild(li);
        });
        box.appendChild(list);
        var open = document.createElement("a");
        open.href = entry.url + "?entry=" + encodeURIComponent(entry.key);
        open.textContent = T.open;
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "link";
        discard.textContent = T.discard;
        discard.addEventListener("click", function () {
          if (window.confirm(say("discard_confirm", { date: when }))) queue.remove(entry.key).then(show);
        });
        box.appendChild(open);
        box.appendChild(document.createTextNode(" · "));
        box.appendChild(discard);
        status.appendChild(box);
      });
      main.prepend(status);
    }).catch(function () {});
  }
  var sending = false;
  function send() {
    if (!queue || sending) return;
    sending = true;
    queue.flush(csrf(), owner).then(function (done) {
      lastSent += done.sent;
    }, function () {}).then(function () {
      sending = false;
      return show();
    });
  }

  // Logging out clears what this site kept on the phone: say so if entries are not sent.
  if (queue) {
    var logout = document.querySelector("header form[data-logout]");
    if (logout) {
      logout.addEventListener("submit", function (event) {
        if (logout.hasAttribute("data-confirmed")) return;
        event.preventDefault();
        queue.all().then(function (entries) {
          entries = entries.filter(mine);
          if (!entries.length || window.confirm(say("logout_confirm", { n: entries.length }))) {
            logout.setAttribute("data-confirmed", "");
            logout.submit();
          }
        }, function () { logout.submit(); });
      });
    }
  }

  // A check-in the phone kept, saved by the server through the form itself (opened to be
  // corrected): the phone no longer keeps it.
  var saved = document.querySelector("[data-saved-key]");
  if (queue && saved) queue.remove(saved.getAttribute("data-saved-key")).then(show, function () {});

  window.addEventListener("online", check);
  window.addEventListener("offline", function () { set(false); });
  if (!navigator.onLine) { set(false); show(); } else { check(); }
})();
