/*
 * govrisk — risk register pages. No framework, no network beyond this app.
 *  - #selectAll ticks every risk point the bulk confirmation may take.
 *  - #riskForm: a new power reloads its steps, posts and people; the scores ask for the suggested level.
 */
(function () {
  "use strict";

  var selectAll = document.getElementById("selectAll");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll("#riskTable input[name=ids]").forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  var form = document.getElementById("riskForm");
  if (!form) { return; }

  function fill(select, options, keepFirst) {
    var current = select.value;
    while (select.options.length > (keepFirst ? 1 : 0)) { select.remove(select.options.length - 1); }
    options.forEach(function (pair) {
      var option = new Option(pair[1], String(pair[0]));
      select.add(option);
    });
    select.value = current;
    if (select.value !== current) { select.selectedIndex = 0; }
  }

  function levelBadge(level, title) {
    if (!level) { return '<span class="text-muted">—</span>'; }
    var span = document.createElement("span");
    span.className = "badge risk-level-" + level;
    span.textContent = title;
    return span.outerHTML;
  }

  function suggest() {
    var params = new URLSearchParams();
    ["power_id", "likelihood", "severity", "discretion"].forEach(function (name) {
      var el = form.elements[name];
      if (el && el.value) { params.set(name, el.value); }
    });
    fetch(form.dataset.suggestUrl + "?" + params.toString(), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.getElementById("suggestedLevel").innerHTML = levelBadge(data.level, data.title);
        var list = document.getElementById("suggestionWhy");
        list.innerHTML = "";
        data.why.forEach(function (text) {
          var li = document.createElement("li");
          li.textContent = text;
          list.appendChild(li);
        });
        var proposed = form.elements.proposed_level;
        if (proposed && !proposed.value && data.level) { proposed.value = String(data.level); }
      });
  }

  var power = form.elements.power_id;
  if (power) {
    power.addEventListener("change", function () {
      if (!power.value) { return; }
      var url = form.dataset.optionsUrl.replace(/\/0\/options$/, "/" + power.value + "/options");
      fetch(url, { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          fill(form.elements.step_id, data.steps, true);
          fill(form.elements.post_id, data.posts, true);
          fill(form.elements.responsible_id, data.people, true);
          suggest();
        });
    });
    // a power chosen before this script ran (slow page) still gets its steps, posts and people
    if (power.value && form.elements.step_id && form.elements.step_id.options.length <= 1) {
      power.dispatchEvent(new Event("change"));
    }
  }
  ["likelihood", "severity", "discretion"].forEach(function (name) {
    var el = form.elements[name];
    if (el) { el.addEventListener("change", suggest); }
  });
})();
