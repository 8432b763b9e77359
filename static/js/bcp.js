// The BCP pop-up: keyboard use (focus in, focus trapped, Escape, focus back), 4xx answers shown in the
// dialog, and Generate Passkey / Finish going unavailable again when the choice changes after Validate.
(function () {
  "use strict";

  var opener = null;

  function root() { return document.getElementById("modal-root"); }
  function dialog() { return document.querySelector("#modal-root [role='dialog']"); }

  function setBackgroundInert(on) {
    document.querySelectorAll("body > :not(#modal-root):not(script)").forEach(function (node) {
      if (on) { node.setAttribute("inert", ""); } else { node.removeAttribute("inert"); }
    });
  }

  function focusDialog(d) {
    var target = d.querySelector("[data-autofocus]") || d.querySelector("h2");
    if (target) { target.focus(); }
  }

  function closed() {
    setBackgroundInert(false);
    if (opener && document.body.contains(opener)) { opener.focus(); }
    else { var main = document.getElementById("main"); if (main) main.focus(); }
    opener = null;
  }

  function close() {
    var r = root();
    if (r) { r.innerHTML = ""; }
    closed();
  }

  // Errors (400/409) carry the message to show: let htmx put them in the dialog like any other answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.detail.target && event.detail.target.id === "modal-root") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!dialog() && event.detail.target && event.detail.target.id === "modal-root") {
      opener = event.detail.elt;
    }
  });

  // After the settle, when htmx has wired up the new step's own hx- attributes (the region list).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "modal-root") return;
    var d = dialog();
    if (d) {
      setBackgroundInert(true);
      d.setAttribute("data-settled", "");
      focusDialog(d);
    } else {
      closed();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("#modal-root [data-dialog-close]")) { close(); }
  });

  // Once a passkey is on screen, Cancel (and Escape, which clicks it) would throw away a passkey the
  // representative may already have copied and shared: ask first. Capture phase, before htmx sees it.
  window.addEventListener("click", function (event) {
    var cancel = event.target.closest("#modal-root [data-dialog-cancel]");
    var shown = cancel && document.querySelector("#modal-root [data-discard-warning]");
    if (shown && !window.confirm(shown.getAttribute("data-discard-warning"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Runs before app.js's Escape handler: Cancel also forgets the wizard's answers on the server.
  window.addEventListener("keydown", function (event) {
    var d = dialog();
    if (!d) return;
    if (event.key === "Escape") {
      var cancel = d.querySelector("[data-dialog-cancel]");
      event.preventDefault();
      event.stopPropagation();
      if (cancel) { cancel.click(); } else { close(); }
      return;
    }
    if (event.key !== "Tab") return;
    var focusable = Array.prototype.filter.call(
      d.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]):not([type='hidden']), select:not([disabled]), textarea, [tabindex]:not([tabindex='-1'])"),
      function (el) { return el.offsetParent !== null; });
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !d.contains(document.activeElement))) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !d.contains(document.activeElement))) {
      event.preventDefault(); first.focus();
    }
  }, true);

  // A page restored by the Back button must not bring a passkey back on screen.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && dialog()) { close(); }
  });

  // A changed region or DR tenant has not been validated: the server would refuse it, so say so early.
  document.addEventListener("change", function (event) {
    if (!event.target.closest("[data-bcp-choice]")) return;
    var form = event.target.closest("form");
    if (!form) return;
    form.querySelectorAll("[data-needs-validation]").forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("input", function (event) {
    if (!event.target.matches("input[data-bcp-choice]")) return;
    var form = event.target.closest("form");
    if (form) form.querySelectorAll("[data-needs-validation]").forEach(function (b) { b.disabled = true; });
  });
})();
