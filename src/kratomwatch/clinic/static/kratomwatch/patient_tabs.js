// The patient page's sections (tabs). Each tab is a link to its own address, which htmx
// loads into the page; without JavaScript the link opens the whole page with that section.
// An address with an anchor that lives in another section (an old link to #medications, a
// finding's #f-…) opens the section that holds it.
(function () {
  "use strict";
  function sectionFor(anchor) {
    if (anchor.indexOf("f-") === 0) return "findings";
    var links = document.querySelectorAll("#patient-tabs a[data-anchors]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("data-anchors").split(" ").indexOf(anchor) >= 0) {
        return links[i].getAttribute("href").replace("?tab=", "");
      }
    }
    return null;
  }
  function openAnchor() {
    var anchor = decodeURIComponent(window.location.hash.slice(1));
    if (!anchor || document.getElementById(anchor)) return;
    var tab = sectionFor(anchor);
    if (tab && new URLSearchParams(window.location.search).get("tab") !== tab) {
      window.location.replace("?tab=" + encodeURIComponent(tab) + "#" + encodeURIComponent(anchor));
    }
  }
  // A section loaded into the page: the focus moves to its heading, so that a keyboard or
  // screen-reader user continues from the new content.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "tab-panel") return;
    var heading = event.detail.target.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
  document.addEventListener("DOMContentLoaded", openAnchor);
  window.addEventListener("hashchange", openAnchor);
})();
