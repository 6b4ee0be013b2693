// Warding review console. Media starts hidden (blurred and/or grey, per the reviewer's
// settings); the reviewer reveals one file at a time. Keyboard shortcuts are listed on
// /help and in the panel that "?" opens. No inline scripts: the CSP forbids them.
"use strict";

(function () {
  var CATEGORY_KEYS = "12345";

  function toggle(el, force) {
    var shown = el.classList.toggle("revealed", force);
    document.querySelectorAll('[data-reveal-target="' + el.id + '"]').forEach(function (btn) {
      btn.setAttribute("aria-pressed", shown ? "true" : "false");
    });
  }

  function hiddenMedia() {
    return Array.prototype.slice.call(
      document.querySelectorAll(".media.blurred, .media.grey"));
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) { return true; }
    if (tag === "input") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["radio", "checkbox", "button", "submit", "reset"].indexOf(type) < 0;
    }
    return false;
  }

  function visible(el) {
    return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  }

  function activate(el) {
    var tag = el.tagName.toLowerCase();
    var type = (el.getAttribute("type") || "").toLowerCase();
    if (tag === "a" || type === "radio" || type === "checkbox" || tag === "button") {
      el.click();
      if (type === "radio" || type === "checkbox") { el.focus(); }
    } else {
      el.focus();
    }
  }

  // Queue: j/k select rows, Enter/o opens the selected one.
  var selected = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.queue-row")); }
  function select(i) {
    var all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r, n) { r.classList.toggle("selected", n === selected); });
    all[selected].scrollIntoView({ block: "nearest" });
    var link = all[selected].querySelector("a.case-link");
    if (link) { link.focus(); }
  }

  function toggleHelp(force) {
    var panel = document.getElementById("shortcuts");
    if (!panel) { return; }
    panel.hidden = force === undefined ? !panel.hidden : !force;
  }

  function onKey(ev) {
    if (ev.key === "Escape") {
      toggleHelp(false);
      if (typing(ev.target)) { ev.target.blur(); }
      return;
    }
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      var form = document.getElementById("decision-form");
      if (form) {
        ev.preventDefault();
        var next = document.getElementById("record-next");
        if (form.requestSubmit) { form.requestSubmit(next || undefined); } else if (next) { next.click(); }
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
    var key = ev.key;
    if (key === "?") { toggleHelp(); ev.preventDefault(); return; }
    var page = document.body.getAttribute("data-page");
    if (page === "queue") {
      if (key === "j") { select(selected + 1); ev.preventDefault(); return; }
      if (key === "k") { select(selected - 1); ev.preventDefault(); return; }
      if (key === "o" && selected >= 0) {
        var open = rows()[selected].querySelector("a.case-link");
        if (open) { open.click(); }
        return;
      }
    }
    if (page === "case") {
      if (key === "r") {
        var media = hiddenMedia();
        var reveal = media.some(function (m) { return !m.classList.contains("revealed"); });
        media.forEach(function (m) { toggle(m, reveal); });
        ev.preventDefault();
        return;
      }
      if (CATEGORY_KEYS.indexOf(key) >= 0 && key.length === 1) {
        var cat = document.getElementById("category");
        if (cat && cat.options.length > Number(key)) {
          cat.selectedIndex = Number(key);
          cat.dispatchEvent(new Event("change"));
          ev.preventDefault();
        }
        return;
      }
      if (key === "a") {
        var boxes = Array.prototype.slice.call(
          document.querySelectorAll('#copies input[type="checkbox"]:not([disabled])'));
        var tick = boxes.some(function (b) { return !b.checked; });
        boxes.forEach(function (b) { b.checked = tick; });
        ev.preventDefault();
        return;
      }
    }
    // Forms bound to a key (claim, next case) are submitted by it.
    var keyForm = document.querySelector('form[data-key-form="' + key + '"]');
    if (keyForm && key.length === 1) {
      ev.preventDefault();
      if (keyForm.requestSubmit) { keyForm.requestSubmit(); } else { keyForm.submit(); }
      return;
    }
    var target = Array.prototype.slice.call(document.querySelectorAll('[data-key="' + key + '"]'))
      .filter(visible)[0];
    if (target) {
      ev.preventDefault();
      activate(target);
    }
  }

  function init() {
    hiddenMedia().forEach(function (el) {
      el.addEventListener("click", function (ev) {
        // For video, the first click reveals; once revealed the controls work as usual.
        if (el.tagName.toLowerCase() === "video" && el.classList.contains("revealed")) { return; }
        if (el.tagName.toLowerCase() === "video") { ev.preventDefault(); }
        toggle(el);
      });
    });
    document.querySelectorAll("video, audio").forEach(function (el) {
      if (el.hasAttribute("muted")) { el.muted = true; }
    });
    document.querySelectorAll("button[data-reveal-target]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var el = document.getElementById(btn.getAttribute("data-reveal-target"));
        if (el) { toggle(el); }
      });
    });
    var help = document.getElementById("help-link");
    if (help && document.getElementById("shortcuts")) {
      help.addEventListener("click", function (ev) { ev.preventDefault(); toggleHelp(); });
    }
    document.addEventListener("keydown", onKey);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// Removal orders: a live countdown to each deadline (TCO Art. 3(3): one hour from receipt).
(function () {
  function fmt(seconds) {
    var s = Math.abs(Math.round(seconds));
    var m = Math.floor(s / 60), r = s % 60;
    return (seconds < 0 ? "overdue by " : "") + m + " min " + (r < 10 ? "0" : "") + r + " s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-due")) - now) / 1000;
      var alertAt = parseFloat(el.getAttribute("data-alert") || "900");
      el.textContent = fmt(left);
      el.classList.toggle("due-soon", left >= 0 && left <= alertAt);
      el.classList.toggle("overdue", left < 0);
    });
  }
  function start() {
    if (document.querySelector(".countdown[data-due]")) { tick(); setInterval(tick, 1000); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
