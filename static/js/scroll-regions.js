// A table wider than its box scrolls inside a named region that Tab can reach (tabindex=0), so a keyboard can
// scroll it (WCAG 2.1.1). The page marks every such region focusable, which is right without this script;
// with it, a region whose table fits is taken out of the Tab order (one stop fewer) and put back when it no
// longer fits (a narrower window, a bigger zoom, a table replaced by another script), and the line above it
// that says it scrolls sideways is shown only while it does.
(function () {
  "use strict";
  var pending = false;

  function update() {
    pending = false;
    document.querySelectorAll(".table-wrap[role=region]").forEach(function (region) {
      var scrolls = region.scrollWidth > region.clientWidth + 1;
      var hint = region.previousElementSibling;
      if (hint && hint.classList.contains("scroll-hint") && hint.hidden === scrolls) hint.hidden = !scrolls;
      if (scrolls && region.getAttribute("tabindex") !== "0") region.setAttribute("tabindex", "0");
      // Never while it has the focus: the focus would fall to the page.
      else if (!scrolls && region.hasAttribute("tabindex") && document.activeElement !== region) {
        region.removeAttribute("tabindex");
      }
    });
  }

  function soon() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(update);
  }

  update();
  window.addEventListener("resize", soon);
  var main = document.querySelector("main");
  if (main && window.MutationObserver) new MutationObserver(soon).observe(main, { childList: true, subtree: true });
})();
