/* costbridge console: the budget grid's totals and variances as you type (no inline script).
 *
 * Each row's amount input is read in whole cents (separators, $, a minus or parentheses, as
 * the server's parser reads them); the row's variance (budget - actual) and the totals follow
 * at once. What the server saves is decided by the server: this only shows the arithmetic.
 */
(function () {
  "use strict";

  var grid = document.getElementById("budget-grid");
  if (!grid) { return; }

  /* Cents of a typed amount, or null when it is not a number the server would take. */
  function cents(text) {
    var t = String(text).trim().replace(/\s+/g, "");
    if (t === "") { return 0; }
    var sign = 1;
    if (t.charAt(0) === "(" && t.charAt(t.length - 1) === ")") { sign = -1; t = t.slice(1, -1); }
    if (/^[-\u2212\u2013]/.test(t)) { sign = -sign; t = t.slice(1); }
    t = t.replace(/^\$/, "");
    if (!/^(\d+|\d{1,3}(,\d{3})+)(\.\d{0,2})?$|^\.\d{1,2}$/.test(t)) { return null; }
    var parts = t.replace(/,/g, "").split(".");
    var whole = parts[0] === "" ? 0 : parseInt(parts[0], 10);
    var frac = parts.length > 1 ? (parts[1] + "00").slice(0, 2) : "00";
    return sign * (whole * 100 + parseInt(frac, 10));
  }

  function money(c) {
    var negative = c < 0;
    var abs = Math.abs(c);
    var whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = ("0" + (abs % 100)).slice(-2);
    return (negative ? "-" : "") + whole + "." + frac;
  }

  function update() {
    var total = 0;
    var valid = true;
    var dirty = 0;
    grid.querySelectorAll("tr[data-code]").forEach(function (row) {
      var input = row.querySelector("input.cb-budget-amount");
      var description = row.querySelector("input.cb-budget-description");
      var variance = row.querySelector(".cb-variance");
      if (!input) { return; }
      var actual = cents(row.getAttribute("data-actual"));
      var budget = cents(input.value);
      var changed = input.value.trim() !== input.getAttribute("data-was") ||
        (description && description.value.trim() !== description.defaultValue.trim());
      row.classList.toggle("cb-changed", !!changed);
      if (changed) { dirty += 1; }
      if (budget === null) {
        valid = false;
        input.classList.add("is-invalid");
        variance.textContent = "?";
        return;
      }
      input.classList.remove("is-invalid");
      total += budget;
      var left = budget - actual;
      variance.textContent = money(left);
      variance.classList.toggle("text-danger", left < 0);
    });
    var actualTotal = cents(document.getElementById("total-actual").getAttribute("data-total-actual"));
    document.getElementById("total-budget").textContent = valid ? money(total) : "?";
    var totalVariance = document.getElementById("total-variance");
    totalVariance.textContent = valid ? money(total - actualTotal) : "?";
    totalVariance.classList.toggle("text-danger", valid && total - actualTotal < 0);
    var words = document.getElementById("budget-dirty");
    if (words) {
      words.textContent = !valid ? "Some amounts are not numbers (write them like 12,500.00)." :
        dirty ? dirty + " line(s) changed, not saved yet." : "";
    }
  }

  grid.addEventListener("input", update);
  update();
}());
