// Ask before a button marked data-confirm submits its form.
document.addEventListener("submit", function (event) {
  "use strict";
  var button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
