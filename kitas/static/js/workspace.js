// The verifier's document viewers: zoom (PDF pages and images) and a quarter turn (images), no library needed.
(function () {
  "use strict";
  document.querySelectorAll("[data-viewer]").forEach(function (viewer) {
    var body = viewer.querySelector("[data-viewer-body]");
    var label = viewer.querySelector("[data-zoom-label]");
    var picture = viewer.querySelector("[data-rotatable]");
    var zoom = 1;
    var turn = 0;
    function show() {
      body.style.width = Math.round(zoom * 100) + "%";
      if (label) { label.textContent = Math.round(zoom * 100) + "%"; }
      if (picture) {
        // A quarter turn of a wide picture needs the height it will have: keep it inside its frame.
        picture.style.transform = "rotate(" + turn + "deg)" + (turn % 180 ? " scale(" + Math.min(1, picture.naturalHeight / picture.naturalWidth || 1) + ")" : "");
      }
    }
    viewer.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var step = Number(button.getAttribute("data-zoom"));
        zoom = step === 0 ? 1 : Math.min(4, Math.max(0.5, zoom + step));
        show();
      });
    });
    viewer.querySelectorAll("[data-rotate]").forEach(function (button) {
      button.addEventListener("click", function () {
        turn = (turn + Number(button.getAttribute("data-rotate"))) % 360;
        show();
      });
    });
  });
})();
