// The back-office order page: approve/reject the payment, change the status, resend the link. The page
// reloads on any "order" event for this order (from this browser or another), so it shows what is true.
(function () {
  "use strict";
  const root = document.getElementById("order-admin");
  if (!root) return;
  const orderId = parseInt(root.dataset.order, 10);
  const out = document.getElementById("order-error");

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function post(path, body) {
    const response = await fetch("/api/v1/orders/" + orderId + "/" + path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty */ }
    if (!response.ok) {
      out.textContent = data.detail || data.reason || (data.reason && data.reason[0]) || (data.status && data.status[0]) || response.statusText;
    } else {
      out.textContent = "";
      location.reload();
    }
  }

  root.addEventListener("click", function (e) {
    const b = e.target.closest("button[data-action]");
    if (!b) return;
    const action = b.dataset.action;
    if (action === "approve") post("payment/approve/");
    else if (action === "reject") post("payment/reject/", { reason: document.getElementById("reject-reason").value });
    else if (action === "status") post("status/", { status: b.dataset.status });
    else if (action === "resend") post("link/");
  });

  document.addEventListener("inbox:event", function (e) {
    const event = e.detail || {};
    if (event.type === "order" && event.order_id === orderId) location.reload();
  });
})();
