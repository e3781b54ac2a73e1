// The customer's order page: refresh when the order changes (the shop approves, ships...). Polls a tiny
// JSON state every 5 seconds while the page is visible; never reloads while a file is being chosen.
(function () {
  "use strict";
  const root = document.getElementById("order");
  if (!root) return;
  let state = root.dataset.state;
  const busy = function () {
    const file = document.querySelector("input[type=file]");
    return file && file.files && file.files.length > 0;
  };
  async function poll() {
    if (document.hidden || busy()) return;
    try {
      const response = await fetch(root.dataset.stateUrl, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const data = await response.json();
      if (data.v && data.v !== state) {
        state = data.v;
        location.replace(location.pathname + "#status");
        location.reload();
      }
    } catch (e) { /* offline: try again later */ }
  }
  setInterval(poll, 5000);
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      const button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
