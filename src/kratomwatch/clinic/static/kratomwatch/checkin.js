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
      guidance.appendChild(guidanceBlock(box));
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
    var most = parseInt((form.querySelector("input[name='dose-MAX_NUM_FORMS']") || {}).value, 10) || 12;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (index >= most) { add.disabled = true; return; }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      document.getElementById("dose-rows").appendChild(row);
      total.value = String(index + 1);
      var took = row.querySelector("input[name$='-took']");
      if (took) { took.checked = true; took.focus(); }
      if (index + 1 >= most) add.disabled = true;
    });
  }

  // queue.js comes later in the page (it serves every patient page): wait for it.
  document.addEventListener("DOMContentLoaded", function () { offline(form, add); });
})();

// The urgent guidance a ticked red-flag box carries, as an alert.
function guidanceBlock(box) {
  "use strict";
  var block = document.createElement("div");
  block.className = "alert urgent";
  var title = document.createElement("h3");
  title.textContent = box.getAttribute("data-guidance-title");
  var text = document.createElement("p");
  text.textContent = box.getAttribute("data-guidance");
  block.appendChild(title);
  block.appendChild(text);
  return block;
}

// With no connection, a check-in is checked on the phone as far as it can be and kept there,
// to be sent when the connection returns (queue.js); the urgent guidance of a red flag is
// shown at once all the same. A kept check-in the server refused opens here to be corrected.
function offline(form, add) {
  "use strict";
  function field(name) { return form.elements.namedItem(name); }
  function randomKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  var wanted = new URLSearchParams(location.search).get("entry");
  // A new check-in page may have come from the phone's copy, whose key is that of a check-in
  // saved since: a key of its own, so that nothing new is taken for a repeat.
  if (form.hasAttribute("data-fresh") && !wanted && window.crypto) field("idempotency_key").value = randomKey();
  var queue = window.kwQueue;
  var textsNode = document.getElementById("kw-texts");
  var checksNode = document.getElementById("entry-checks");
  if (!queue || !textsNode || !checksNode || !window.indexedDB) return;
  var T = JSON.parse(textsNode.textContent);
  var checks = JSON.parse(checksNode.textContent);
  // A page from the phone's copy (no connection): the time now in the blank dose rows (a
  // repeated dose keeps its own time), and today's date if it was kept on an earlier day.
  var shown = document.querySelector("[data-today]");
  var now = new Date();
  var today = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" + String(now.getDate()).padStart(2, "0");
  if (!navigator.onLine && form.hasAttribute("data-fresh") && !wanted) {
    if (shown && shown.getAttribute("data-today") !== today) {
      shown.textContent = now.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year: "numeric" });
    }
    form.querySelectorAll("#dose-rows .dose-row:not([data-yesterday]) input[name$='-at']").forEach(function (at) {
      at.value = String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
    });
  }
  function say(name, values) {
    return T[name].replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? values[k] : m; });
  }
  function reachable() {
    return navigator.onLine && document.documentElement.getAttribute("data-reachable") !== "no";
  }

  // --- what the phone can check: the same limits the server uses, given by the page.
  function problems() {
    var found = [];
    form.querySelectorAll("fieldset[data-required]").forEach(function (set) {
      if (!set.querySelector("input[type=radio]:checked")) {
        var first = set.querySelector("input[type=radio]");
        found.push([first, (set.querySelector("legend") || {}).textContent + ": " + T.choose_answer]);
      }
    });
    // A kept check-in opened again is checked against the moment it was entered.
    var now = restored ? new Date(restored.entered_at) : new Date();
    var places = parseInt(checks.max_decimal_places, 10);
    var ahead = parseInt(checks.future_tolerance_min, 10) * 60000;
    form.querySelectorAll("#dose-rows .dose-row").forEach(function (row, index) {
      var took = row.querySelector("input[name$='-took']");
      if (!took || !took.checked) return;
      var where = say("dose", { n: index + 1 }) + ": ";
      var product = row.querySelector("select[name$='-product']");
      var amount = row.querySelector("input[name$='-amount']");
      var unit = row.querySelector("select[name$='-unit']");
      var at = row.querySelector("input[name$='-at']");
      if (!product.value) found.push([product, where + T.product]);
      if (!amount.value.trim()) found.push([amount, where + T.amount]);
      if (!unit.value) found.push([unit, where + T.unit]);
      if (!at.value) found.push([at, where + T.time]);
      var text = amount.value.trim();
      if (text) {
        if (text.indexOf(",") >= 0) found.push([amount, where + say("comma", { amount: text })]);
        else if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) found.push([amount, where + say("number", { amount: text })]);
        else if (parseFloat(text) <= 0) found.push([amount, where + T.positive]);
        else if (((text.split(".")[1] || "").replace(/0+$/, "")).length > places) found.push([amount, where + say("decimals", { n: places })]);
        else {
          var rules = product.value && checks.products[product.value];
          var limit = rules && unit.value && rules[unit.value];
          if (rules && unit.value && !limit) {
            found.push([unit, where + say("unit_not_allowed", { unit: unit.value, units: Object.keys(rules).join(", ") })]);
          } else if (limit) {
            var value = parseFloat(text);
            if (value > parseFloat(limit.max)) found.push([amount, where + say("too_much", { amount: text, unit: unit.value, max: limit.max })]);
            else if (limit.step && Math.abs(value / parseFloat(limit.step) - Math.round(value / parseFloat(limit.step))) > 1e-9) {
              found.push([amount, where + say("step", { unit: unit.value, step: limit.step })]);
            }
          }
        }
      }
      if (at.value) {
        var parts = at.value.split(":");
        var when = new Date(now.getFullYear(), now.getMonth(), now.getDate(), +parts[0], +parts[1]);
        if (when.getTime() > now.getTime() + ahead) found.push([at, where + T.future]);
      }
    });
    return found;
  }

  var summary = null;
  function showProblems(found) {
    if (summary) summary.remove();
    summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    var title = document.createElement("h2");
    title.textContent = T.errors_title;
    var intro = document.createElement("p");
    intro.textContent = T.errors_intro;
    var list = document.createElement("ul");
    found.forEach(function (problem) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (problem[0] && problem[0].id);
      link.textContent = problem[1];
      link.addEventListener("click", function (event) {
        event.preventDefault();
        if (problem[0]) { problem[0].scrollIntoView({ block: "center" }); problem[0].focus(); }
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.appendChild(title);
    summary.appendChild(intro);
    summary.appendChild(list);
    form.parentNode.insertBefore(summary, form.parentNode.querySelector("h1"));
    summary.focus();
  }

  // --- keeping the check-in on the phone.
  var restored = null;
  function pairs() {
    var out = [];
    new FormData(form).forEach(function (value, name) { out.push([name, String(value)]); });
    return out;
  }
  // The check-in as entered, to keep: a kept one opened again keeps its key and moment.
  function entry(state) {
    var kept = restored || {
      key: field("idempotency_key").value || randomKey(),
      entered_at: new Date().toISOString(),
      url: location.pathname,
      owner: form.getAttribute("data-owner")
    };
    kept.pairs = pairs();
    kept.state = state;
    kept.errors = [];
    kept.csrf = (field("csrfmiddlewaretoken") || {}).value;
    if (state === "sending") kept.sending_since = Date.now();
    return kept;
  }
  function keep() {
    var found = problems();
    if (found.length) { showProblems(found); return; }
    var kept = entry("waiting");
    queue.put(kept).then(function () {
      if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (reg) {
          if (reg.sync) return reg.sync.register("kratomwatch-outbox");
        }).catch(function () {});
      }
      saved(kept);
    }, function () {
      // The phone would not keep it (storage full or blocked): say so, nothing is lost yet.
      showProblems([[null, T.not_kept]]);
    });
  }
  function saved(entry) {
    if (summary) summary.remove();
    var panel = document.createElement("section");
    panel.className = "card saved-offline";
    panel.id = "saved-offline";
    panel.tabIndex = -1;
    panel.setAttribute("role", "status");
    var title = document.createElement("h2");
    title.textContent = T.saved_title;
    var body = document.createElement("p");
    var at = new Date(entry.entered_at);
    body.textContent = say("saved_body", { time: at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
    panel.appendChild(title);
    panel.appendChild(body);
    var flags = form.querySelectorAll("input[name='red_flags'][data-guidance]:checked");
    if (flags.length) {
      var urgent = document.createElement("div");
      urgent.className = "urgent-block";
      urgent.setAttribute("role", "alert");
      var told = document.createElement("p");
      told.innerHTML = "<strong></strong>";
      told.firstChild.textContent = T.not_told;
      urgent.appendChild(told);
      flags.forEach(function (box) { urgent.appendChild(guidanceBlock(box)); });
      panel.appendChild(urgent);
    }
    var again = document.createElement("a");
    again.href = location.pathname;
    again.className = "button secondary";
    again.textContent = T.another;
    panel.appendChild(again);
    form.hidden = true;
    form.parentNode.insertBefore(panel, form);
    panel.focus();
  }

  form.addEventListener("submit", function (event) {
    if (!reachable()) { event.preventDefault(); keep(); return; }
    // Sent now, as a form is, and kept on the phone meanwhile (written long before any
    // answer arrives), in case the answer never comes on a network that reaches nothing:
    // the saved page, or the page that shows what to correct, takes it off the phone again.
    queue.put(entry("sending")).catch(function () {});
  });

  // A check-in the server sent back to correct is on this page now: not kept on the phone.
  if (!form.hasAttribute("data-fresh") && !wanted) {
    queue.remove(field("idempotency_key").value).catch(function () {});
  }

  // --- a kept check-in opened to be corrected: its answers back in the form.
  if (!wanted) return;
  queue.get(wanted).then(function (kept) {
    if (!kept) return;
    restored = kept;
    // Sent and answered by the server with what to correct: its page shows the entry now.
    if (field("entered_at").value) return;
    var entry = kept;
    var total = 0;
    entry.pairs.forEach(function (p) { if (p[0] === "dose-TOTAL_FORMS") total = parseInt(p[1], 10) || 0; });
    var rows = document.getElementById("dose-rows");
    if (rows && add) {
      rows.textContent = "";
      add.disabled = false;
      field("dose-TOTAL_FORMS").value = "0";
      for (var i = 0; i < total; i++) add.click();
    }
    form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (box) { box.checked = false; });
    entry.pairs.forEach(function (p) {
      if (p[0] === "csrfmiddlewaretoken") return;
      var named = form.querySelectorAll("[name='" + p[0].replace(/'/g, "") + "']");
      named.forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") { if (el.value === p[1]) el.checked = true; }
        else el.value = p[1];
      });
    });
    field("idempotency_key").value = entry.key;
    field("entered_at").value = entry.entered_at;
    form.querySelectorAll("input[name='red_flags']").forEach(function (box) {
      box.dispatchEvent(new Event("change"));
    });
    var note = document.createElement("div");
    note.className = "error-summary";
    note.setAttribute("role", "alert");
    note.tabIndex = -1;
    var p = document.createElement("p");
    p.textContent = say("restored", { date: new Date(entry.entered_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) });
    note.appendChild(p);
    if (entry.errors && entry.errors.length) {
      var list = document.createElement("ul");
      entry.errors.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        list.appendChild(li);
      });
      note.appendChild(list);
    }
    form.parentNode.insertBefore(note, form.parentNode.querySelector("h1"));
    note.focus();
  });
}
