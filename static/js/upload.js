// The upload form, enhanced: drop a file on it, and watch the bytes go.
//
// Without this script the form posts as usual. With it the file is sent through XMLHttpRequest (the
// one browser API that reports upload progress): a bar with percent, bytes and time left, the button
// disabled while it sends, a clear message if the connection drops. The server answers as it does
// for the plain form: a redirect to the import page (followed), or the form again with its message.
(function () {
  "use strict";

  // Screen readers hear the progress at most this often; the bar itself moves on every event.
  var ANNOUNCE_EVERY_MS = 5000;
  // Time left is not shown before this much of the upload has been timed (the first figures jump).
  var ETA_AFTER_MS = 1500;
  var MB = 1048576;

  function formatDuration(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function formatMegabytes(bytes) {
    return (bytes / MB).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  function enhanceDropzone(form) {
    var zone = form.querySelector("[data-dropzone]");
    if (!zone) return;
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  // Put the page the server answered with (the form and its message) in place of this one's content;
  // answer false when it is not one of bookapp's pages (a proxy's error page, say).
  function showAnswer(html) {
    var answer = new DOMParser().parseFromString(html, "text/html");
    var main = document.querySelector("main");
    var newMain = answer.querySelector("main");
    if (!main || !newMain) return false;
    main.replaceChildren.apply(main, Array.prototype.map.call(newMain.childNodes, function (node) {
      return document.importNode(node, true);
    }));
    document.title = answer.title;
    enhance();
    if (window.bookappLocalTimes) window.bookappLocalTimes(main); // its times, in the reader's zone as elsewhere
    // The field with a problem (autofocus does not act on content put in by a script), else the message,
    // else the heading: tried in that order (one selector list would take whichever comes first in the page).
    var first = ["[autofocus]", "[role=alert]", ".field-error", "h1"].map(function (selector) {
      return main.querySelector(selector);
    }).filter(Boolean)[0];
    if (first) {
      if (!first.matches("input, select, textarea, button, a[href]") && !first.hasAttribute("tabindex")) {
        first.setAttribute("tabindex", "-1");
      }
      first.focus();
    }
    return true;
  }

  function enhanceSending(form) {
    var button = form.querySelector("button[type=submit]");
    var box = form.querySelector("[data-upload-progress]");
    var bar = form.querySelector("[data-upload-bar]");
    var text = form.querySelector("[data-upload-text]");
    var announcer = form.querySelector("[data-upload-announcer]");
    var problem = form.querySelector("[data-upload-error]");
    var input = form.querySelector("input[type=file]");
    if (!button || !box || !bar || !text || !window.FormData || !window.XMLHttpRequest) return;
    var maxBytes = Number(form.dataset.maxBytes) || 0;
    var sending = false;

    function say(message, announce) {
      text.textContent = message;
      if (announce) announcer.textContent = message;
    }

    // *ofTheFile*: the file itself is wrong (too large), not the connection: the input says so too.
    function fail(message, ofTheFile) {
      sending = false;
      button.disabled = false;
      box.hidden = true;
      announcer.textContent = "";
      problem.textContent = message;
      problem.hidden = false;
      if (ofTheFile && input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", problem.id);
        input.focus();
      }
    }

    // "Import it again" (a file refused as imported before, kept by the server) sends this form to another
    // address, without its file: the browser does it, once. A browser without event.submitter is told by
    // the click that comes before the submit; a file chosen meanwhile is for the form's own button.
    var again = document.getElementById("import-again");
    var againPressed = false, againSent = false;
    if (again) {
      again.addEventListener("click", function () { againPressed = true; });
      if (input) {
        input.addEventListener("change", function () {
          again.parentNode.hidden = input.files.length > 0;
        });
      }
    }

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter || (againPressed ? again : null);
      againPressed = false;
      if (again && submitter === again) {
        if (againSent) event.preventDefault();  // a second press: the first is on its way
        againSent = true;
        return;
      }
      event.preventDefault();
      if (sending) return;  // a second click while the first upload goes: nothing more is sent
      var file = input && input.files[0];
      if (file && maxBytes && file.size > maxBytes) {
        fail("The file is " + formatMegabytes(file.size) + " MB, larger than the limit of " +
             formatMegabytes(maxBytes) + " MB. Split the file or ask an operator to raise the limit.", true);
        return;
      }
      sending = true;
      button.disabled = true;
      problem.hidden = true;
      problem.textContent = "";
      if (input && input.getAttribute("aria-describedby") === problem.id) {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
      box.hidden = false;
      bar.value = 0;
      say("Starting the upload…", true);

      var started = Date.now();
      var lastAnnounced = started;
      var sentBytes = 0, sentBefore = 0, totalBytes = 0;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "text/html");
      xhr.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) return;
        sentBefore = sentBytes;
        sentBytes = event.loaded;
        totalBytes = event.total;
        var percent = Math.floor((event.loaded / event.total) * 100);
        var elapsed = Date.now() - started;
        var message = percent + " % · " + formatMegabytes(event.loaded) + " of " +
                      formatMegabytes(event.total) + " MB sent";
        if (elapsed >= ETA_AFTER_MS && event.loaded > 0 && event.loaded < event.total) {
          var left = Math.round(((event.total - event.loaded) / event.loaded) * elapsed / 1000);
          message += " · about " + formatDuration(left) + " left";
        }
        bar.value = percent;
        bar.textContent = percent + " %";
        var now = Date.now();
        var announce = now - lastAnnounced >= ANNOUNCE_EVERY_MS;
        if (announce) lastAnnounced = now;
        say(message, announce);
      });
      xhr.upload.addEventListener("load", function () {
        // A big file is hashed and checked before the answer comes: say so, or it looks stuck at 100 %.
        bar.value = 100;
        say("Sent. bookapp is checking the file…", true);
      });
      xhr.addEventListener("load", function () {
        var posted = new URL(form.action, window.location.href);
        var landed = xhr.responseURL ? new URL(xhr.responseURL) : posted;
        if (landed.pathname !== posted.pathname) {
          // The server redirected (to the import page, or to sign in): go there as the plain form would.
          say("Sent. Opening the import…", true);
          window.location.assign(landed.href);
          return;
        }
        sending = false;
        if (!showAnswer(xhr.responseText)) {
          fail("The upload did not go through: the server answered " + xhr.status + " " + xhr.statusText +
               ". Try again in a moment.");
        }
      });
      xhr.addEventListener("error", function () {
        // When the link drops, the browser reports the whole body as sent just before the error:
        // the figure before that jump is the last one that was true.
        var sent = sentBytes === totalBytes ? sentBefore : sentBytes;
        fail("The connection to bookapp was lost during the upload" +
             (totalBytes ? " (after " + formatMegabytes(sent) + " of " + formatMegabytes(totalBytes) + " MB)" : "") +
             ". Check the connection and press the button to upload again: if the file did arrive, " +
             "bookapp says so before importing it twice.");
      });
      xhr.send(new FormData(form));
    });
  }

  // The button says what it starts: "Upload and import", or "Upload and check" while the dry-run box is ticked.
  function nameTheButton(form) {
    var button = form.querySelector("button[data-import-text]");
    var box = form.querySelector("input[name=dry_run]");
    if (!button || !box) return;
    function name() { button.textContent = box.checked ? button.dataset.checkText : button.dataset.importText; }
    box.addEventListener("change", name);
    name();
  }

  function enhance() {
    var form = document.getElementById("upload-form");
    if (!form) return;
    nameTheButton(form);
    enhanceDropzone(form);
    enhanceSending(form);
  }

  enhance();
})();
