/* costbridge console: what Flask-Admin's templates did with inline handlers, done from here so
   the strict Content-Security-Policy holds (admin/csp.py rewrites the templates). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) { return; }
    var confirmed = target.closest("[data-cb-confirm]");
    if (confirmed) {
      var ask = window.faHelpers ? window.faHelpers.safeConfirm : window.confirm;
      if (!ask(confirmed.getAttribute("data-cb-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
      return;
    }
    var action = target.closest("[data-cb-action]");
    if (action) {
      event.preventDefault();
      if (window.modelActions) { window.modelActions.execute(action.getAttribute("data-cb-action")); }
      return;
    }
    var inline = target.closest("[data-cb-add-inline]");
    if (inline) {
      event.preventDefault();
      if (window.faForm) { window.faForm.addInlineField(inline, inline.getAttribute("data-cb-add-inline")); }
      return;
    }
    if (target.closest("a[data-cb-inert]")) {
      event.preventDefault();
    }
  }, true);  /* capture: before any handler that stops the click from bubbling */

  if (window.jQuery) {
    window.jQuery(document).on("shown.bs.modal loaded.bs.modal", function (event) {
      if (window.faForm) {
        window.faForm.applyGlobalStyles(window.jQuery(event.target).find(".modal-content"));
      }
    });
  }
})();
