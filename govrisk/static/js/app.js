/*
 * govrisk — small page behaviours. No framework, no network.
 *  - [data-confirm="文本"] on a link, button or form: ask before following / submitting.
 *  - [data-autosubmit] on a select: submit its form when the value changes.
 */
(function () {
  "use strict";

  function confirmed(el) {
    var message = el.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  // Links and buttons (also <input type=submit>) carrying data-confirm.
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("a[data-confirm], button[data-confirm], input[data-confirm]") : null;
    if (el && !confirmed(el)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Forms carrying data-confirm (covers submit by Enter key as well).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.hasAttribute && form.hasAttribute("data-confirm") && !confirmed(form)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Selects carrying data-autosubmit.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      if (typeof el.form.requestSubmit === "function") {
        el.form.requestSubmit();
      } else {
        el.form.submit();
      }
    }
  });
})();
