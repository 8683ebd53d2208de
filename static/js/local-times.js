// Times in the reader's own time zone. The server writes each time in UTC, in a <time> that carries the
// instant (datetime="2026-12-05T14:22:07+00:00"), the UTC time in its title and the parts the page shows
// (data-shape="date time zone": bookapp.time_tag). This writes the same parts again in the browser's zone:
// "2026-12-05 14:22 UTC" becomes "2026-12-05 19:52 IST", the title keeping the UTC time. Without scripts the
// UTC text stays. Content put in the page later (the import page's finished report) calls
// window.bookappLocalTimes(itsRoot).
(function () {
  "use strict";
  var format;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
      hourCycle: "h23", timeZoneName: "short", numberingSystem: "latn",
    });
  } catch (error) {
    return; // a browser without these options keeps the UTC times
  }
  var resolved = format.resolvedOptions();
  // A browser that ignores hourCycle writes a 12-hour clock for some languages, and the AM/PM this leaves
  // out would put 14:22 at 02:22: it keeps the UTC times too.
  if (resolved.hour12 || (resolved.hourCycle && resolved.hourCycle !== "h23")) return;

  function localText(instant, shape) {
    var part = {};
    format.formatToParts(instant).forEach(function (p) { part[p.type] = p.value; });
    var shown = [];
    if (shape.indexOf("date") >= 0) shown.push(part.year + "-" + part.month + "-" + part.day);
    if (shape.indexOf("time") >= 0) {
      shown.push(part.hour + ":" + part.minute + (shape.indexOf("seconds") >= 0 ? ":" + part.second : ""));
    }
    if (shape.indexOf("zone") >= 0 && part.timeZoneName) shown.push(part.timeZoneName);
    return shown.join(" ");
  }

  function localize(root) {
    (root || document).querySelectorAll("time[datetime][data-shape]").forEach(function (el) {
      var instant = new Date(el.getAttribute("datetime"));
      if (isNaN(instant.getTime())) return;
      var shape = el.dataset.shape.split(" ");
      el.textContent = localText(instant, shape);
    });
  }

  function zoneAt(instant) {
    var zone = format.formatToParts(instant).filter(function (p) { return p.type === "timeZoneName"; })[0];
    return zone ? zone.value : "";
  }

  // Columns of bare times say their zone in their heading (data-zone-name): UTC as served, the reader's once
  // written again. A zone with summer time names both ("EST/EDT"): a column's times fall in either.
  function nameTheZone(root) {
    var year = new Date().getFullYear();
    var names = [zoneAt(new Date(Date.UTC(year, 0, 1))), zoneAt(new Date(Date.UTC(year, 6, 1)))];
    if (!names[0] || !names[1]) return;
    var name = names[0] === names[1] ? names[0] : names.join("/");
    (root || document).querySelectorAll("[data-zone-name]").forEach(function (el) { el.textContent = name; });
  }

  window.bookappLocalTimes = function (root) {
    localize(root);
    nameTheZone(root);
  };
  window.bookappLocalTimes(document);
})();
