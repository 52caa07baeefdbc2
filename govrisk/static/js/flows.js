/*
 * govrisk — the flow editor: add and remove table rows, and a live preview (chart + findings) that the server
 * draws from the current rows (POST the §7.1 document to the preview URL; nothing is stored until "保存").
 * No framework, no network beyond this site.
 */
(function () {
  "use strict";

  var form = document.getElementById("flowEditor");
  if (!form) {
    return;
  }
  var token = form.querySelector("input[name=csrf_token]").value;
  var chart = document.getElementById("previewChart");
  var list = document.getElementById("findingList");
  var summary = document.getElementById("previewSummary");
  var timer = null;
  var pending = null;

  function nextIndex(tbody, prefix) {
    var max = -1;
    tbody.querySelectorAll("[name^='" + prefix + "-']").forEach(function (input) {
      var n = parseInt(input.name.split("-")[1], 10);
      if (!isNaN(n) && n > max) {
        max = n;
      }
    });
    return max + 1;
  }

  function addRow(kind) {
    var tbody = document.querySelector(kind === "step" ? "#stepRows tbody" : "#edgeRows tbody");
    var template = document.getElementById(kind === "step" ? "stepRowTemplate" : "edgeRowTemplate");
    var index = nextIndex(tbody, kind === "step" ? "steps" : "edges");
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__i__/g, String(index));
    var row = holder.querySelector("tr");
    tbody.appendChild(row);
    var first = row.querySelector("input, select");
    if (first) {
      first.focus();
    }
    schedule();
  }

  function value(row, field) {
    var el = row.querySelector("[data-field='" + field + "']");
    if (!el) {
      return null;
    }
    if (el.type === "checkbox") {
      return el.checked;
    }
    if (el.tagName === "SELECT" && field === "post") {
      return el.selectedIndex > 0 ? el.options[el.selectedIndex].text : null;
    }
    return el.value.trim();
  }

  function collect() {
    var steps = [];
    document.querySelectorAll("#stepRows tr[data-row]").forEach(function (row) {
      var id = value(row, "id"), name = value(row, "name"), post = value(row, "post"), docs = value(row, "documents");
      if (!id && !name && !post && !docs) {
        return;
      }
      var days = value(row, "time_limit_days");
      var step = {id: id, name: name, post: post || null, role: value(row, "role"),
                  time_limit_days: days === "" ? null : Number(days)};
      var documents = (docs || "").split(/[；;\n]+/).map(function (d) { return d.trim(); }).filter(Boolean);
      if (documents.length) {
        step.documents = documents;
      }
      steps.push(step);
    });
    var edges = [];
    document.querySelectorAll("#edgeRows tr[data-row]").forEach(function (row) {
      var from = value(row, "from"), to = value(row, "to"), label = value(row, "label");
      if (!from && !to && !label) {
        return;
      }
      edges.push({from: from, to: to, label: label, loop: value(row, "loop")});
    });
    var limit = document.getElementById("time_limit_days").value.trim();
    return {power_code: form.dataset.powerCode, kind: form.dataset.kind,
            time_limit_days: limit === "" ? null : Number(limit), steps: steps, edges: edges};
  }

  function refreshIds(doc) {
    var datalist = document.getElementById("stepIds");
    datalist.innerHTML = "";
    doc.steps.forEach(function (step) {
      if (step.id) {
        var option = document.createElement("option");
        option.value = step.id;
        option.label = step.name || "";
        datalist.appendChild(option);
      }
    });
  }

  function showFindings(findings) {
    list.innerHTML = "";
    if (!findings.length) {
      var ok = document.createElement("li");
      ok.className = "list-group-item small text-success";
      ok.id = "noFindings";
      ok.textContent = form.dataset.msgNone;
      list.appendChild(ok);
      return;
    }
    findings.forEach(function (f) {
      var item = document.createElement("li");
      item.className = "list-group-item small finding finding-" + f.severity;
      item.setAttribute("data-code", f.code);
      item.setAttribute("data-steps", f.steps.join(" "));
      var badge = document.createElement("span");
      badge.className = "badge " + (f.severity === "error" ? "text-bg-danger" : "text-bg-warning");
      badge.textContent = f.severity === "error" ? form.dataset.msgError : form.dataset.msgWarning;
      var code = document.createElement("code");
      code.textContent = f.code;
      item.appendChild(badge);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(code);
      item.appendChild(document.createTextNode(" " + f.message));
      list.appendChild(item);
    });
  }

  function markRows(flagged) {
    document.querySelectorAll("#stepRows tr[data-row]").forEach(function (row) {
      row.classList.toggle("table-danger", flagged.indexOf(value(row, "id")) >= 0);
    });
  }

  function show(data) {
    if (data.svg) {
      chart.innerHTML = data.svg;
    } else {
      showEmpty(data.findings && data.findings.length ? form.dataset.msgInvalid : null);
    }
    showFindings(data.findings || []);
    markRows(data.flagged || []);
    var days = data.critical_path_days, limit = data.limit;
    summary.textContent = days === null || days === undefined ? "" :
      form.dataset.msgPath.replace("{d}", days) +
      (limit === null || limit === undefined ? "" : form.dataset.msgLimit.replace("{n}", limit));
    form.setAttribute("data-preview-state", "ready");
  }

  function showEmpty(message) {
    chart.innerHTML = "";
    var empty = document.createElement("div");
    empty.className = "text-muted small text-center py-4";
    empty.textContent = message || form.dataset.msgEmpty;
    chart.appendChild(empty);
  }

  function preview() {
    var doc = collect();
    refreshIds(doc);
    if (!doc.steps.length) {  // nothing to draw or check yet
      showEmpty();
      list.innerHTML = "";
      var none = document.createElement("li");
      none.className = "list-group-item small text-muted";
      none.textContent = form.dataset.msgNosteps;
      list.appendChild(none);
      summary.textContent = "";
      form.setAttribute("data-preview-state", "ready");
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    form.setAttribute("data-preview-state", "loading");
    fetch(form.dataset.previewUrl, {
      method: "POST", credentials: "same-origin", signal: pending.signal,
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
      body: JSON.stringify(doc)
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      return response.json();
    }).then(show).catch(function (error) {
      if (error.name !== "AbortError") {
        summary.textContent = form.dataset.msgFailed;
        form.setAttribute("data-preview-state", "failed");
      }
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 300);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add]");
    if (add) {
      addRow(add.getAttribute("data-add"));
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      remove.closest("tr").remove();
      schedule();
    }
  });
  preview();
})();
