// The inbox's live connection. Emits a "inbox:event" DOM event per server event, in order, once each.
// After a drop it reconnects with the last sequence number it applied and the server replays what was
// missed; events at or below that number are ignored, so nothing is shown twice.
(function () {
  "use strict";
  const root = document.getElementById("inbox");
  if (!root) return;
  let lastSeq = parseInt(root.dataset.seq || "0", 10) || 0;
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
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
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
