// Check-in helpers. Everything works without this script: it only saves taps.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var repeat = document.getElementById("repeat-yesterday");
  if (repeat) {
    repeat.addEventListener("click", function () {
      form.querySelectorAll(".dose-row[data-yesterday] input[name$='-took']").forEach(function (box) {
        box.checked = true;
      });
      repeat.textContent = "Last time's doses ticked";
      repeat.disabled = true;
    });
  }
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
