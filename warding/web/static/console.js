// Warding review console. Media starts blurred; the reviewer reveals one file at a time.
"use strict";

(function () {
  function toggle(el) {
    var shown = el.classList.toggle("revealed");
    document.querySelectorAll('[data-reveal-target="' + el.id + '"]').forEach(function (btn) {
      btn.setAttribute("aria-pressed", shown ? "true" : "false");
    });
  }

  function init() {
    document.querySelectorAll("img.media.blurred").forEach(function (img) {
      img.addEventListener("click", function () { toggle(img); });
    });
    document.querySelectorAll("button[data-reveal-target]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var el = document.getElementById(btn.getAttribute("data-reveal-target"));
        if (el) { toggle(el); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
