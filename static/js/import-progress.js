// Poll an import's JSON about once a second and update its page; stop at a terminal status.
(function () {
  "use strict";
  var section = document.getElementById("import");
  if (!section || section.dataset.terminal === "true") return;

  var url = section.dataset.statusUrl;
  var number = new Intl.NumberFormat();
  var fields = {};
  section.querySelectorAll("[data-field]").forEach(function (el) { fields[el.dataset.field] = el; });

  function setText(name, value) {
    if (fields[name]) fields[name].textContent = value;
  }

  function formatDuration(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    return minutes + " min " + (seconds % 60) + " s";
  }

  function render(data) {
    setText("status", data.status);
    setText("phase", data.phase);
    setText("speed", data.rows_per_second ? "· " + number.format(data.rows_per_second) + " rows/s" : "");
    setText("eta", data.eta_seconds != null ? "· about " + formatDuration(data.eta_seconds) + " left" : "");
    fields.status.className = "status-" + data.status;
    setText("percent", data.percent);
    setText("processed_rows", number.format(data.processed_rows));
    setText("total_rows", data.total_rows == null ? "?" : number.format(data.total_rows));
    ["created", "updated", "unchanged", "skipped", "rejected"].forEach(function (name) {
      setText(name, number.format(data[name]));
    });
    fields.bar.value = data.percent;
    fields.bar.setAttribute("aria-valuenow", data.percent);
    fields.bar.textContent = data.percent + " %";
    if (data.error) {
      setText("error", data.error);
      fields.error.hidden = false;
    }
    document.title = (data.terminal ? "Done: " : "") + "Import #" + data.id + " · " + data.status + " · bookapp";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (data.terminal) {
          section.dataset.terminal = "true";
          // The report (rejected rows) is rendered on the server: load it once.
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 1000);
})();
