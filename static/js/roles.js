// Permissions tab: Edit always includes View. Ticking Edit ticks its View; unticking View unticks its Edit.
// The server enforces the same rule, so this is only a courtesy.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    var viewId = box.getAttribute("data-implies");
    if (viewId && box.checked) {
      var view = document.getElementById(viewId);
      if (view) view.checked = true;
      return;
    }
    if (!box.checked && box.id) {
      document.querySelectorAll('[data-implies="' + box.id + '"]').forEach(function (edit) { edit.checked = false; });
    }
  });
})();
