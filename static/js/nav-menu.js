// The header's Operate menu closes as menus do: on Escape, the focus going back to Operate, and on a click
// elsewhere on the page (open, it covers the sign-out line on a phone).
(function () {
  "use strict";
  function openMenu() {
    return document.querySelector("details.nav-menu[open]");
  }
  document.addEventListener("keydown", function (event) {
    var menu = openMenu();
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    var menu = openMenu();
    if (menu && !menu.contains(event.target)) menu.open = false;
  });
})();
