// The patient app on the phone: register the service worker, and say plainly when the server
// cannot be reached (an entry cannot be sent then; urgent guidance is still there). Whether
// the server answers is asked of the server itself: a phone can be "online" on a network
// that reaches nothing.
(function () {
  "use strict";
  var patient = document.body.classList.contains("with-patient-nav");
  if (patient && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }
  var banner = null;
  function forms() {
    return document.querySelectorAll("main form[method=post] button[type=submit]");
  }
  function set(reachable) {
    if (reachable) {
      if (banner) { banner.remove(); banner = null; }
      forms().forEach(function (b) { if (b.hasAttribute("data-offline")) { b.disabled = false; b.removeAttribute("data-offline"); } });
      return;
    }
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "offline-banner";
      banner.setAttribute("role", "alert");
      banner.innerHTML = "You are offline: what you enter cannot be sent until the connection " +
        "returns. For severe symptoms, <a href=\"/urgent/\">see what to do now</a>.";
      (document.getElementById("main") || document.body).prepend(banner);
    }
    forms().forEach(function (b) { if (!b.disabled) { b.disabled = true; b.setAttribute("data-offline", ""); } });
  }
  function check() {
    return fetch("/api/health", { cache: "no-store", credentials: "omit" }).then(
      function (r) { return r.ok || r.status < 500; },
      function () { return false; }
    ).then(set);
  }
  window.addEventListener("online", check);
  window.addEventListener("offline", function () { set(false); });
  if (!navigator.onLine) { set(false); } else { check(); }
})();
