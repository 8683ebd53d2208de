// The grid of rejected rows to fix, enhanced: a row is checked when a cell of it is left (the marks
// change in place), the tools apply without a reload, and importing rows that still have problems
// asks once more.
//
// Without this script the grid is a plain form: its buttons post it and the page comes back with the
// rows checked or the tool applied, and the rows are checked again when they are imported whatever
// any script said.
(function () {
  "use strict";
  var form = document.getElementById("fix-grid");
  if (!form || !window.fetch) return;
  var checkUrl = form.dataset.checkUrl;
  var token = form.querySelector("input[name=csrf_token]");
  var status = document.getElementById("fix-status");
  var warning = document.getElementById("fix-warning");
  var tbody = form.querySelector("table.fix-grid tbody");
  var selectAll = form.querySelector("[data-select-all]");
  var latest = {};  // row number → the number of its latest check (an older answer is dropped)
  var warned = false;  // rows with problems: the import button asks once, then imports
  var dirty = false;  // changes not imported yet
  var submitting = false;

  function rows() { return Array.prototype.slice.call(tbody.querySelectorAll("tr[data-row]")); }
  function cellsOf(tr) { return Array.prototype.slice.call(tr.querySelectorAll("[data-col]")); }
  function header(position) {
    var select = document.getElementById("replace-column");
    return select.options[position] ? select.options[position].text : "column " + (position + 1);
  }

  function say(text) {
    // Emptied first, so the same words said twice are heard twice.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function warn(text) {
    warning.textContent = text;
    warning.hidden = !text;
  }

  function edited(tr) {
    return tr.classList.contains("edited") || cellsOf(tr).some(function (cell) {
      return cell.value !== cell.defaultValue;
    });
  }

  // Put a row's problems in place: each on its cell (aria-invalid, and the message it is described by),
  // the ones of the row as a whole beside its number.
  function mark(tr, result) {
    var number = tr.dataset.row;
    tr.querySelectorAll(".cell-problem").forEach(function (el) { el.remove(); });
    cellsOf(tr).forEach(function (cell) {
      cell.removeAttribute("aria-invalid");
      if (cell.dataset.described) cell.setAttribute("aria-describedby", cell.dataset.described);
      else cell.removeAttribute("aria-describedby");
      cell.parentNode.classList.remove("invalid");
    });
    var list = tr.querySelector(".row-problems");
    list.replaceChildren();
    var byCell = {};
    result.problems.forEach(function (problem) {
      if (problem.position === null || problem.position === undefined) {
        var item = document.createElement("li");
        item.textContent = problem.message;
        list.appendChild(item);
      } else {
        (byCell[problem.position] = byCell[problem.position] || []).push(problem.message);
      }
    });
    Object.keys(byCell).forEach(function (position) {
      var cell = tr.querySelector('[data-col="' + position + '"]');
      if (!cell) return;
      var message = document.createElement("span");
      message.className = "cell-problem";
      message.id = "m-" + number + "-" + position;
      message.textContent = byCell[position].join("; ");
      cell.parentNode.appendChild(message);
      cell.parentNode.classList.add("invalid");
      cell.setAttribute("aria-invalid", "true");
      cell.setAttribute("aria-describedby", ((cell.dataset.described || "") + " " + message.id).trim());
    });
    if (result.blank && result.changed) {
      var empty = document.createElement("li");
      empty.className = "note";
      empty.textContent = "Empty: this row is left out of the import.";
      list.appendChild(empty);
    }
    tr.classList.toggle("edited", result.changed);
    tr.classList.toggle("has-problems", result.problems.length > 0);
  }

  function describe(tr) {
    var messages = Array.prototype.map.call(tr.querySelectorAll(".row-problems li, .cell-problem"), function (el) {
      return el.textContent;
    });
    return "Row " + tr.dataset.row + ": " + (messages.length ? messages.join(". ") : "no problem left") + ".";
  }

  // Check rows on the server (the importer's own converters); resolve with the rows that were marked.
  function check(trs) {
    if (!trs.length) return Promise.resolve([]);
    var sent = {};
    var body = { rows: trs.map(function (tr) {
      var number = tr.dataset.row;
      latest[number] = sent[number] = (latest[number] || 0) + 1;
      return { row: Number(number), cells: cellsOf(tr).map(function (cell) { return cell.value; }) };
    }) };
    return fetch(checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || "the server answered " + response.status);
        return data;
      });
    }).then(function (data) {
      var marked = [];
      data.rows.forEach(function (result) {
        var tr = tbody.querySelector('tr[data-row="' + result.row + '"]');
        if (tr && latest[result.row] === sent[result.row]) {
          mark(tr, result);
          marked.push(tr);
        }
      });
      // The warning about rows still wrong goes once none is.
      if (!warning.hidden && !rows().some(function (tr) { return edited(tr) && tr.classList.contains("has-problems"); })) {
        warn("");
      }
      return marked;
    }).catch(function (error) {
      say("The rows could not be checked now (" + error.message + "). They are checked when they are imported.");
      return [];
    });
  }

  tbody.addEventListener("change", function (event) {
    var cell = event.target;
    if (!cell.matches("[data-col]")) return;
    dirty = true;
    warned = false;
    var tr = cell.closest("tr");
    check([tr]).then(function (marked) { if (marked.length) say(describe(tr)); });
  });

  function toolFailed(message, field) {
    say(message);
    if (field) field.focus();
  }

  function replace() {
    var column = document.getElementById("replace-column").value;
    var findField = document.getElementById("replace-find");
    var find = findField.value;
    var replacement = document.getElementById("replace-with").value;
    var whole = document.getElementById("replace-whole").checked;
    if (!find) return toolFailed("Type the text to replace first.", findField);
    var changed = [];
    var count = 0;
    rows().forEach(function (tr) {
      var cell = tr.querySelector('[data-col="' + column + '"]');
      if (!cell) return;
      var value = cell.value;
      var next = whole ? (value.trim() === find.trim() ? replacement : value) : value.split(find).join(replacement);
      if (next !== value) {
        cell.value = next;
        count += 1;
        changed.push(tr);
      }
    });
    var name = header(Number(column));
    if (!count) return toolFailed("No cell of " + name + " holds '" + find + "'.");
    dirty = true;
    warned = false;
    check(changed).then(function () {
      say("Replaced in " + count + " cell" + (count === 1 ? "" : "s") + " of " + name + ".");
    });
  }

  function setColumn() {
    var column = document.getElementById("set-column").value;
    var value = document.getElementById("set-value").value;
    var chosen = rows().filter(function (tr) { return tr.querySelector("input[name=selected]").checked; });
    if (!chosen.length) {
      return toolFailed("Select the rows to change first (the boxes in the first column).",
                        tbody.querySelector("input[name=selected]"));
    }
    var changed = chosen.filter(function (tr) {
      var cell = tr.querySelector('[data-col="' + column + '"]');
      if (!cell || cell.value === value) return false;
      cell.value = value;
      return true;
    });
    dirty = dirty || changed.length > 0;
    warned = false;
    check(changed).then(function () {
      say("Set " + header(Number(column)) + " to '" + value + "' in " + changed.length + " row" +
          (changed.length === 1 ? "" : "s") + ".");
    });
  }

  form.addEventListener("submit", function (event) {
    var action = event.submitter ? event.submitter.value : "check";
    if (action === "replace") { event.preventDefault(); replace(); return; }
    if (action === "set") { event.preventDefault(); setColumn(); return; }
    if (action === "check") {
      event.preventDefault();
      var toCheck = rows().filter(edited);
      check(toCheck).then(function () {
        var left = toCheck.filter(function (tr) { return tr.classList.contains("has-problems"); }).length;
        say(toCheck.length ? "Checked " + toCheck.length + " changed row" + (toCheck.length === 1 ? "" : "s") +
            ": " + (left ? left + " still with problems." : "no problem left.") : "No row is changed yet.");
      });
      return;
    }
    if (submitting) { event.preventDefault(); return; }  // a second click while the first import is sent
    var changedRows = rows().filter(edited);
    if (!changedRows.length) {
      event.preventDefault();
      warn("Change the rows to fix first: only the rows you change are imported.");
      return;
    }
    var stillBad = changedRows.filter(function (tr) { return tr.classList.contains("has-problems"); });
    if (stillBad.length && !warned) {
      event.preventDefault();
      warned = true;
      warn(stillBad.length + " of the rows you changed still " + (stillBad.length === 1 ? "has" : "have") +
           " problems (the first is row " + stillBad[0].dataset.row + "). Fix them, or press Import the fixed rows " +
           "again to import anyway: those rows are rejected again, and can be fixed from the new import's page.");
      var first = stillBad[0].querySelector("[aria-invalid=true]") || stillBad[0].querySelector("[data-col]");
      if (first) first.focus();
      return;
    }
    submitting = true;
    dirty = false;
    // Disabled after the form's data is taken (a button disabled now would leave out its action).
    window.setTimeout(function () { event.submitter.disabled = true; }, 0);
  });

  // Enter in a tool's box applies that tool (the form's first button would only check the rows).
  form.querySelectorAll("[data-tool]").forEach(function (tool) {
    tool.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.target.tagName !== "INPUT" || event.target.type === "checkbox") return;
      event.preventDefault();
      form.requestSubmit(tool.querySelector("button[type=submit]"));
    });
  });

  if (selectAll) {
    selectAll.hidden = false;
    selectAll.addEventListener("click", function () {
      var boxes = Array.prototype.slice.call(tbody.querySelectorAll("input[name=selected]"));
      var every = boxes.every(function (box) { return box.checked; });
      boxes.forEach(function (box) { box.checked = !every; });
      selectAll.textContent = every ? "Select every row" : "Clear the selection";
      say(every ? "No row is selected." : "Every row of this page is selected.");
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}());
