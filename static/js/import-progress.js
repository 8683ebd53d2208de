// Follow an import on its page: poll its JSON about once a second and update the figures; tell screen
// readers how far it has got every few seconds; when it ends, put the finished page in place (no reload)
// and say how it ended.
(function () {
  "use strict";
  var section = document.getElementById("import");
  if (!section || section.dataset.terminal === "true") return;

  var POLL_MS = 1000;
  var POLL_AFTER_ERROR_MS = 3000;
  // A live region that speaks every second drowns everything else: progress is told at most this often.
  var ANNOUNCE_EVERY_MS = 5000;
  // The finished page is fetched again a few times if that fails, then loaded the plain way.
  var FINISHED_PAGE_TRIES = 3;

  var url = section.dataset.statusUrl;
  var announcer = document.getElementById("import-announcer");
  var number = new Intl.NumberFormat();
  var lastAnnouncedAt = 0;
  var lastAnnounced = "";
  var fields = {};
  section.querySelectorAll("[data-field]").forEach(function (el) { fields[el.dataset.field] = el; });

  function setText(name, value) {
    if (fields[name]) fields[name].textContent = value;
  }

  function formatDuration(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function progressSentence(data) {
    if (data.status === "queued") return "Queued: waiting for a worker.";
    // "45 % · 450 of 1,000 rows", "1,200 rows so far", "600 of 900 rows (200 left out)": the page's words.
    var parts = data.total_rows != null ? [data.percent + " %"] : [];
    parts.push(data.rows_label);
    if (data.eta_seconds != null) parts.push("about " + formatDuration(data.eta_seconds) + " left");
    return parts.join(" · ");
  }

  // A dry run saves nothing: its counts are what the import would do ("the import would create 4, reject 1").
  var WOULD = { created: "create", updated: "update", unchanged: "leave unchanged", skipped: "skip", rejected: "reject" };

  function outcomeSentence(data) {
    var what = (data.dry_run ? "Dry run #" : "Import #") + data.id;
    // An outcome that counts the rejected rows ("succeeded with 1 rejected row") has told them already.
    var toldRejected = !data.dry_run && /\breject/.test(data.outcome || "");
    var counts = ["created", "updated", "unchanged", "skipped", "rejected"].filter(function (name) {
      return data[name] && !(name === "rejected" && toldRejected);
    }).map(function (name) {
      return data.dry_run ? WOULD[name] + " " + number.format(data[name]) : number.format(data[name]) + " " + name;
    });
    if (data.left_out_rows) {
      counts.push(data.dry_run ? "leave out " + number.format(data.left_out_rows) + (data.left_out_rows === 1 ? " row" : " rows")
                               : number.format(data.left_out_rows) + " left out");
    }
    var told = "";
    // A dry run that went through its file has said its counts in its outcome ("would create 4 books and
    // reject 2 rows": services/dry_runs.would_do): only the rows left out are left to tell, once.
    if (data.dry_run && data.status === "succeeded") {
      if (data.left_out_rows) told = " It would " + counts[counts.length - 1] + ".";
    } else if (counts.length && data.dry_run) {
      var last = counts.pop();
      told = " The import would " + (counts.length ? counts.join(", ") + " and " : "") + last + ".";
    } else if (counts.length) {
      told = " " + counts.join(", ") + ".";
    }
    // The outcome says what the status alone does not: "succeeded with 3 rejected rows", "undone".
    var sentence = what + ": " + (data.outcome || data.status) + "." + told;
    if (data.error) sentence += " " + data.error;
    return sentence;
  }

  function announce(text, now) {
    if (!announcer) return;
    announcer.textContent = text;
    lastAnnounced = text;
    lastAnnouncedAt = now;
  }

  // A dry run says so: it checks the file, it imports nothing.
  function dryRunSentence(data) {
    if (data.status === "queued") return "Dry run queued: waiting for a worker.";
    return "Dry run, checking the file: " + progressSentence(data);
  }

  function announceProgress(data) {
    var text = data.dry_run ? dryRunSentence(data) : progressSentence(data);
    var now = Date.now();
    if (text !== lastAnnounced && now - lastAnnouncedAt >= ANNOUNCE_EVERY_MS) announce(text, now);
  }

  function render(data) {
    // How it ended, as the page says it ("every row rejected"), not only the job's status ("succeeded").
    setText("status", data.outcome || data.status);
    setText("phase", data.phase_label || data.phase);
    // Said only when its worker has stopped answering or was started again (empty while all is well).
    setText("liveness", data.liveness || "");
    if (fields.liveness) fields.liveness.hidden = !fields.liveness.textContent;
    // "Columns matched: the import is queued." is true only while it is.
    if (fields.matched) fields.matched.hidden = data.status !== "queued";
    setText("speed", data.rows_per_second ? "· " + number.format(data.rows_per_second) + " rows/s" : "");
    setText("eta", data.eta_seconds != null ? "· about " + formatDuration(data.eta_seconds) + " left" : "");
    if (fields.status) fields.status.className = data.outcome_class || "status-" + data.status;
    setText("percent", data.percent);
    setText("rows", data.rows_label);
    if (fields.with_total) fields.with_total.hidden = data.total_rows == null;
    ["created", "updated", "unchanged", "skipped", "rejected"].forEach(function (name) {
      setText(name, number.format(data[name]));
    });
    if (fields.bar) {
      fields.bar.value = data.percent;
      fields.bar.setAttribute("aria-valuenow", data.percent);
      fields.bar.textContent = data.percent + " %";
    }
    if (data.error && fields.error) {
      setText("error", data.error);
      fields.error.hidden = false;
    }
    document.title = (data.dry_run ? "Dry run #" : "Import #") + data.id + " · " + (data.outcome || data.status) + " · bookapp";
  }

  // The report (banner, rejected rows, downloads, buttons) is rendered on the server: fetch the finished
  // page and put its content in place of this one's, keeping the live region (a replaced region may not
  // be read out) and, when focus was on something now gone, moving it to the page's heading.
  function showFinishedPage(data, triesLeft) {
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var main = document.querySelector("main");
        var finished = page.querySelector("main");
        if (!main || !finished) throw new Error("not an import page");
        var focusWasInside = main.contains(document.activeElement);
        var nodes = Array.prototype.map.call(finished.childNodes, function (node) {
          return document.importNode(node, true);
        });
        main.replaceChildren.apply(main, nodes);
        // The report's times, written in UTC by the server, in the reader's zone as the rest of the page's.
        if (window.bookappLocalTimes) window.bookappLocalTimes(main);
        var fresh = document.getElementById("import-announcer");
        if (announcer && fresh && fresh !== announcer) fresh.replaceWith(announcer);
        document.title = page.title;
        announce(outcomeSentence(data), Date.now());
        if (focusWasInside) {
          var heading = main.querySelector("h1");
          if (heading) {
            heading.setAttribute("tabindex", "-1");
            heading.focus();
          }
        }
      })
      .catch(function () {
        if (triesLeft > 1) window.setTimeout(function () { showFinishedPage(data, triesLeft - 1); }, POLL_AFTER_ERROR_MS);
        else window.location.reload();
      });
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
          showFinishedPage(data, FINISHED_PAGE_TRIES);
          return;
        }
        announceProgress(data);
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, POLL_AFTER_ERROR_MS); });
  }

  window.setTimeout(poll, POLL_MS);
})();
