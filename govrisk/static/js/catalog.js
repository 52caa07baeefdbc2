/*
 * govrisk — the power form: add rows to the repeating lists, show discretion tiers only for penalty powers,
 * fee fields only when a fee is charged. Works without it (the form always has blank rows to fill).
 */
(function () {
  "use strict";
  var form = document.getElementById("powerForm");
  if (!form) { return; }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-add-row]") : null;
    if (!button) { return; }
    event.preventDefault();
    var name = button.getAttribute("data-add-row");
    var box = form.querySelector('[data-rows="' + name + '"]');
    var rows = box.querySelectorAll(".row-item");
    var last = rows[rows.length - 1];
    var index = rows.length;
    var copy = last.cloneNode(true);
    var pattern = new RegExp("^" + name + "-\\d+-");
    copy.querySelectorAll("input, textarea, select").forEach(function (el) {
      ["name", "id"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, name + "-" + index + "-")); }
      });
      if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }
      el.classList.remove("is-invalid");
    });
    copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
    box.appendChild(copy);
    var first = copy.querySelector("input, textarea, select");
    if (first) { first.focus(); }
  });

  var category = document.getElementById("category");
  var tiers = document.getElementById("tierSection");
  function toggleTiers() {
    var hasTier = Array.prototype.some.call(tiers.querySelectorAll("input, textarea"), function (el) { return el.value; });
    tiers.style.display = (category.value === "cf" || hasTier) ? "" : "none";
  }
  var fee = document.getElementById("is_fee_charged");
  var feeFields = document.getElementById("feeFields");
  function toggleFee() { feeFields.style.display = fee.checked ? "" : "none"; }
  if (category && tiers) { category.addEventListener("change", toggleTiers); toggleTiers(); }
  if (fee && feeFields) { fee.addEventListener("change", toggleFee); toggleFee(); }
})();
