// Error summary (GOV.UK pattern): it takes the focus when the page opens, so that a screen
// reader reads it and a phone shows it; each of its links moves the focus to its field and
// brings the field's question into view. The links work without this script too.
(function () {
  "use strict";
  // Urgent guidance, where a page has it, comes first and keeps the focus.
  var urgent = document.querySelector("[data-urgent]");
  var summary = document.querySelector("[data-error-summary]");
  if (urgent) urgent.focus();
  if (!summary) return;
  if (!urgent) summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    var question = target.closest("fieldset, .field, .dose-row") || target;
    question.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  });
})();
// A button with data-copy="<id>" copies that field's text (the new API token) to the
// clipboard; without the clipboard, the text is selected for the person to copy.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var status = button.parentNode.querySelector("[data-copy-status]");
    field.focus();
    field.select();
    var done = function () {
      if (status) status.textContent = button.getAttribute("data-copied");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
})();
