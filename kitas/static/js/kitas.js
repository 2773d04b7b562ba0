// KITAS Online: small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // A form came back with errors: move the focus to its summary, so it is read first (it is there without JS too).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  // "Add another" for arrays of objects: clone the template row with the next index.
  document.querySelectorAll("[data-array-add]").forEach(function (button) {
    button.addEventListener("click", function () {
      var container = document.getElementById(button.getAttribute("data-array-add"));
      var template = container.querySelector("template");
      var next = parseInt(container.getAttribute("data-next-index"), 10);
      var html = template.innerHTML.split("__INDEX__").join(String(next));
      template.insertAdjacentHTML("beforebegin", html);
      container.setAttribute("data-next-index", String(next + 1));
      // Keyboard and screen-reader users continue in the new row.
      var added = container.querySelector('[data-row="' + next + '"] input, [data-row="' + next + '"] select');
      if (added) { added.focus(); }
    });
  });
  // Ask before an irreversible decision.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
