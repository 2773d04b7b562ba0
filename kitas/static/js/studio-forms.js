// The studio's form editor: the preview is swapped in by htmx, so what kitas.js sets up when a page loads
// ("Add another" rows) is set up again on each new preview; after "Check sample data" the error summary
// takes the focus, as it does on an applicant's page (never while the analyst types in the text areas).
(function () {
  "use strict";

  function addRow(button) {
    var container = document.getElementById(button.getAttribute("data-array-add"));
    var template = container.querySelector("template");
    var next = parseInt(container.getAttribute("data-next-index"), 10);
    template.insertAdjacentHTML("beforebegin", template.innerHTML.split("__INDEX__").join(String(next)));
    container.setAttribute("data-next-index", String(next + 1));
    var added = container.querySelector('[data-row="' + next + '"] input, [data-row="' + next + '"] select');
    if (added) {
      added.focus();
    }
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var preview = document.getElementById("form-preview-body");
    if (!preview || !preview.contains(event.target)) {
      return;
    }
    preview.querySelectorAll("[data-array-add]").forEach(function (button) {
      button.addEventListener("click", function () {
        addRow(button);
      });
    });
    var trigger = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    var summary = preview.querySelector("[data-error-summary]");
    if (summary && trigger && trigger.hasAttribute("data-check-sample")) {
      summary.focus();
    }
  });
})();
