// The inbox's live connection. Emits a "inbox:event" DOM event per server event, in order, once each.
// After a drop it reconnects with the last sequence number it applied and the server replays what was
// missed; events at or below that number are ignored, so nothing is shown twice.
(function () {
  "use strict";
  const root = document.getElementById("inbox");
  if (!root) return;
  let lastSeq = parseInt(root.dataset.seq || "0", 10) || 0;
  // Numbers already applied. Events normally arrive in order, but one published later by another
  // process may carry a lower number: it is applied once, not dropped.
  const seen = new Set();
  const initialSeq = lastSeq; // everything up to here is in the page as rendered
  let delay = 500;
  let socket = null;

  function url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return scheme + "://" + location.host + "/ws/inbox/?since=" + lastSeq;
  }

  function connect() {
    socket = new WebSocket(url());
    socket.onopen = function () {
      delay = 500;
      root.dataset.live = "1";
      document.dispatchEvent(new CustomEvent("inbox:connection", { detail: { live: true } }));
    };
    socket.onmessage = function (msg) {
      let event;
      try { event = JSON.parse(msg.data); } catch (e) { return; }
      if (event.type === "resync") { location.reload(); return; }
      if (typeof event.seq === "number") {
        if (seen.has(event.seq) || event.seq <= initialSeq) return;
        seen.add(event.seq);
        if (seen.size > 5000) seen.delete(seen.values().next().value);
        lastSeq = Math.max(lastSeq, event.seq);
        root.dataset.seq = String(lastSeq);
      }
      document.dispatchEvent(new CustomEvent("inbox:event", { detail: event }));
    };
    socket.onclose = function (e) {
      root.dataset.live = "0";
      document.dispatchEvent(new CustomEvent("inbox:connection", { detail: { live: false } }));
      if (e.code === 4403) return; // signed out or not staff: don't hammer the server
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  window.inboxSocket = { close: function () { if (socket) socket.close(); } };
  connect();
})();
