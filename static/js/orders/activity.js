// Order activity lines in the inbox's conversation timeline (link sent, opened, confirmed, proof
// uploaded, payment approved/rejected, shipped...), placed among the messages by time and refreshed
// on every "order" event of this conversation. Also: resend a link, attach a chat image to an order.
(function () {
  "use strict";
  const anchor = document.getElementById("order-activity");
  const timeline = document.getElementById("timeline");
  if (!anchor || !timeline) return;
  const conversationId = parseInt(anchor.dataset.conversation, 10);

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function post(path, body) {
    const response = await fetch("/api/v1/" + path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty */ }
    return { ok: response.ok, data: data };
  }

  function timeOf(li) {
    const t = li.querySelector(".meta time[datetime]") || li.querySelector("time[datetime]");
    return t ? Date.parse(t.getAttribute("datetime")) : NaN;
  }

  let loading = null;
  async function refresh() {
    if (loading) { loading.again = true; return; }
    loading = { again: false };
    try {
      const response = await fetch(anchor.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = (await response.text()).trim();
      timeline.querySelectorAll("li.order-activity").forEach(function (li) { li.remove(); });
      const messages = Array.from(timeline.querySelectorAll("li.msg"));
      Array.from(template.content.querySelectorAll("li.order-activity")).forEach(function (line) {
        const at = Date.parse(line.dataset.at);
        const after = messages.find(function (m) { return timeOf(m) > at; });
        if (after) timeline.insertBefore(line, after); else timeline.appendChild(line);
      });
    } finally {
      const again = loading.again;
      loading = null;
      if (again) refresh();
    }
  }

  function say(button, text, isError) {
    let note = button.parentElement.querySelector(".order-note");
    if (!note) { note = document.createElement("span"); note.className = "order-note"; note.setAttribute("role", "status"); button.after(note); }
    note.textContent = " " + text;
    note.classList.toggle("error", !!isError);
  }

  document.addEventListener("click", async function (e) {
    const resend = e.target.closest("[data-resend-link]");
    const attach = e.target.closest("[data-attach-proof]");
    if (resend) {
      resend.disabled = true;
      const r = await post("orders/" + resend.dataset.resendLink + "/link/");
      resend.disabled = false;
      if (!r.ok) say(resend, r.data.reason || r.data.detail || "Error", true);
    } else if (attach) {
      attach.disabled = true;
      const r = await post("messages/" + attach.dataset.attachProof + "/attach-to-order/");
      attach.disabled = false;
      say(attach, r.ok ? (r.data.order ? r.data.order.number + " ✓" : "✓") : (r.data.detail || "Error"), !r.ok);
    }
  });

  document.addEventListener("inbox:event", function (e) {
    const event = e.detail || {};
    // Message events too: with an in-process task queue a message's events can overtake (and so hide)
    // the order event published in the same transaction; re-reading the lines is cheap.
    const messageConversation = event.message ? event.message.conversation_id : event.conversation_id;
    if ((event.type === "order" && event.conversation_id === conversationId) ||
        (event.type === "message" && messageConversation === conversationId)) refresh();
  });
  refresh();
})();
