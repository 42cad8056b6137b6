// Check-in helpers. Everything works without this script: it only saves taps.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var repeat = document.getElementById("repeat-yesterday");
  if (repeat) {
    repeat.addEventListener("click", function () {
      if (repeat.getAttribute("aria-disabled") === "true") return;
      // Each keeps its own time of day; doses later in the day than now stay unticked.
      var later = 0;
      form.querySelectorAll(".dose-row[data-yesterday]").forEach(function (row) {
        var box = row.querySelector("input[name$='-took']");
        if (!box) return;
        if (row.hasAttribute("data-later")) { later += 1; return; }
        box.checked = true;
      });
      repeat.textContent = later
        ? "Last time's doses ticked; check their times (" + later + " later today left unticked)"
        : "Last time's doses ticked; check their times before saving";
      // Done once; the button keeps the focus (a disabled one would drop it) and the change
      // is announced.
      repeat.setAttribute("aria-disabled", "true");
      var status = document.getElementById("repeat-status");
      if (status) status.textContent = repeat.textContent;
    });
  }
  // A red flag's urgent guidance is shown the moment it is ticked, from the page itself: it
  // needs no connection.
  var guidance = document.getElementById("flag-guidance");
  function showGuidance() {
    if (!guidance) return;
    guidance.textContent = "";
    form.querySelectorAll("input[name='red_flags'][data-guidance]:checked").forEach(function (box) {
      var block = document.createElement("div");
      block.className = "alert urgent";
      var title = document.createElement("h3");
      title.textContent = box.getAttribute("data-guidance-title");
      var text = document.createElement("p");
      text.textContent = box.getAttribute("data-guidance");
      block.appendChild(title);
      block.appendChild(text);
      guidance.appendChild(block);
    });
    guidance.hidden = !guidance.firstChild;
  }
  form.querySelectorAll("input[name='red_flags']").forEach(function (box) {
    box.addEventListener("change", showGuidance);
  });
  var add = document.getElementById("add-dose");
  var template = document.getElementById("dose-row-template");
  var total = form.querySelector("input[name='dose-TOTAL_FORMS']");
  if (add && template && total) {
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      document.getElementById("dose-rows").appendChild(row);
      total.value = String(index + 1);
      var took = row.querySelector("input[name$='-took']");
      if (took) { took.checked = true; took.focus(); }
    });
  }
})();
