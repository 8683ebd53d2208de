// Match columns (and edit a profile), enhanced. Without this script the pages work by their buttons:
// Preview shows the page again with the choices made. With it:
// - while the file's columns are read in a job, the waiting page asks every second whether they are
//   ready, then opens the matching page;
// - when a control changes, the server is asked what the choices give (the preview of the first rows,
//   Book type's values, whether Continue can be pressed and why not, the intro's why: the fields without a
//   column, the values to match, the column naming each row's item) and those parts are put in place;
//   a live region says the outcome in one sentence;
// - choosing the last "else" column of a field adds another select, for a longer fallback chain;
// - the choices are kept in the tab's sessionStorage per import, and put back on coming back to the page,
//   until the import no longer waits for them (its page, once Continue is taken or it is cancelled).
(function () {
  "use strict";

  var DRAFT_PREFIX = "bookapp.columns.";

  var POLL_MS = 1000;
  var POLL_AFTER_ERROR_MS = 3000;
  // Typing in a text box asks the server once the typing pauses.
  var TYPING_PAUSE_MS = 300;

  function waitForProfile(box) {
    function poll() {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (data.state === "pending") window.setTimeout(poll, POLL_MS);
          else window.location.reload();
        })
        .catch(function () { window.setTimeout(poll, POLL_AFTER_ERROR_MS); });
    }
    window.setTimeout(poll, POLL_MS);
  }

  function addFallbackAfter(select) {
    var cell = select.closest("[data-fallbacks]");
    if (!cell) return;
    var selects = cell.querySelectorAll("select[data-fallback]");
    if (select !== selects[selects.length - 1] || !select.value) return;
    var wrapper = select.closest(".fallback");
    var copy = wrapper.cloneNode(true);
    var number = selects.length + 1;
    var id = "else-" + cell.dataset.fallbacks + "-" + number;
    var newSelect = copy.querySelector("select");
    var label = copy.querySelector("label");
    newSelect.id = id;
    newSelect.value = "";
    label.htmlFor = id;
    label.textContent = cell.dataset.more.replace("{n}", String(number));
    wrapper.after(copy);
  }

  function enhanceForm(form) {
    var liveUrl = form.dataset.liveUrl;
    var preview = document.getElementById("preview");
    var values = document.getElementById("values");
    var reason = document.getElementById("continue-reason");
    var proceed = document.getElementById("continue");
    var announcer = document.getElementById("columns-announcer");
    var why = document.getElementById("why");
    var asked = 0;
    var timer = null;
    var draft = new Draft(form);

    function apply(data) {
      if (preview && data.preview_html != null) preview.innerHTML = data.preview_html;
      // Book type's values are replaced only when its columns change (and never under the keyboard's focus).
      if (values && data.values_key !== values.dataset.key && !values.contains(document.activeElement)) {
        values.innerHTML = data.values_html;
        values.dataset.key = data.values_key;
        if (draft.restoreValues(values)) soon(0);
      }
      if (proceed) proceed.disabled = !data.can_continue;
      if (reason) {
        reason.textContent = data.reason;
        reason.hidden = !data.reason;
      }
      form.querySelectorAll("[data-missing-for]").forEach(function (marker) {
        var missing = data.missing.indexOf(marker.dataset.missingFor) !== -1;
        marker.hidden = !missing;
        marker.closest("tr").classList.toggle("missing", missing);
        var select = document.getElementById("column-" + marker.dataset.missingFor);
        if (select && !missing) select.removeAttribute("aria-invalid");
      });
      Object.keys(data.used_for || {}).forEach(function (index) {
        var cell = document.querySelector("[data-used-for='" + index + "']");
        if (cell) cell.textContent = data.used_for[index];
      });
      // The intro follows the choices (not under the keyboard's focus, as Book type's values).
      if (why && data.why_html != null && !why.contains(document.activeElement)) why.innerHTML = data.why_html;
      if (announcer && data.summary) announcer.textContent = data.summary;
    }

    function ask() {
      var mine = ++asked;
      var body = new FormData(form);
      body.set("action", "preview");
      fetch(liveUrl, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) { if (mine === asked) apply(data); })
        .catch(function () { /* the Preview button still works */ });
    }

    function soon(delay) {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, delay);
    }

    form.addEventListener("change", function (event) {
      if (event.target.matches("select[data-fallback]")) addFallbackAfter(event.target);
      draft.save();
      soon(0);
    });
    form.addEventListener("input", function (event) {
      if (event.target.matches("input[type=text]")) {
        draft.save();
        soon(TYPING_PAUSE_MS);
      }
    });
    if (draft.restore()) soon(0);
  }

  function draftStore() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  // The choices made on the page, kept per import in the tab's sessionStorage, so that leaving the page and
  // coming back finds them again. Never over what the server says is saved already: an import's own
  // mapping (data-saved-fields), a value matched before (data-saved); nor on a page the form was sent to.
  // Kept until the server takes them: a Continue it refuses (400) leaves them, for the next visit.
  function Draft(form) {
    var key = form.dataset.draft ? DRAFT_PREFIX + form.dataset.draft : null;
    var store = draftStore();
    var pendingValues = null;

    function read() {
      try { return JSON.parse(store.getItem(key) || "null"); } catch (e) { return null; }
    }

    function valueChoices(root) {
      var chosen = {};
      root.querySelectorAll("input[type=hidden][name^='value-text-']").forEach(function (text) {
        var select = form.querySelector("select[name='value-" + text.name.slice("value-text-".length) + "']");
        if (select) chosen[text.value] = select.value;
      });
      return chosen;
    }

    this.save = function () {
      if (!store || !key) return;
      var fields = {};
      form.querySelectorAll("select[name], input[type=text][name]").forEach(function (control) {
        var name = control.name;
        if (/^(column-|else-|default-|group_by$|save_as$)/.test(name)) (fields[name] = fields[name] || []).push(control.value);
      });
      var values = Object.assign((read() || {}).values || {}, valueChoices(form));
      if (pendingValues) pendingValues = values;
      try { store.setItem(key, JSON.stringify({ fields: fields, values: values })); } catch (e) { /* full: not kept */ }
    };

    // Put the kept choices in place; return whether anything changed (the server is then asked again).
    this.restore = function () {
      if (!store || !key || !("restore" in form.dataset)) return false;
      var kept = read();
      if (!kept) return false;
      var savedFields = "savedFields" in form.dataset;
      var changed = false;
      Object.keys(kept.fields || {}).forEach(function (name) {
        if (savedFields && name !== "save_as") return;
        kept.fields[name].forEach(function (value, at) {
          var controls = form.querySelectorAll("[name='" + name + "']");
          var control = controls[at];
          if (!control || control.value === value) return;
          if (control.tagName === "SELECT" && !Array.prototype.some.call(control.options, function (o) { return o.value === value; })) return;
          control.value = value;
          changed = true;
          if (control.matches("select[data-fallback]")) addFallbackAfter(control);
        });
      });
      pendingValues = kept.values || {};
      if (this.restoreValues(form)) changed = true;
      return changed;
    };

    // Book type's value matches, in the section as it is now (again once the server replaces it).
    this.restoreValues = function (root) {
      if (!pendingValues) return false;
      var changed = false;
      root.querySelectorAll("input[type=hidden][name^='value-text-']").forEach(function (text) {
        var select = form.querySelector("select[name='value-" + text.name.slice("value-text-".length) + "']");
        var value = pendingValues[text.value];
        if (!select || value == null || select.value === value || "saved" in select.dataset) return;
        select.value = value;
        changed = true;
      });
      return changed;
    };
  }

  // An import's page once it no longer waits for its columns (Continue taken, or cancelled) forgets the choices
  // kept for it: they would otherwise stay in the tab for as long as it is open.
  function forgetDone(marker) {
    var store = draftStore();
    if (store) store.removeItem(DRAFT_PREFIX + marker.dataset.draftDone);
  }

  document.querySelectorAll("[data-draft-done]").forEach(forgetDone);
  var waiting = document.getElementById("profiling");
  if (waiting) waitForProfile(waiting);
  var form = document.getElementById("columns-form");
  if (form && form.dataset.liveUrl && window.fetch && window.FormData) enhanceForm(form);
})();
