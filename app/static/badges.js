// Mes badges: a "copy the link" button beside the read-only address field (the field alone works without it).
(function () {
  "use strict";
  function copyText(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value);
    }
    field.focus();
    field.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.status);
    if (!field || !status) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(field).then(
        function () { status.textContent = button.dataset.done; },
        function () { field.focus(); field.select(); status.textContent = button.dataset.failed; }
      );
    });
  });
})();
