// The inbox's live connection. Emits a "inbox:event" DOM event per server event, in order, once each.
// After a drop it reconnects and the server replays what was missed; numbers already applied are skipped,
// so nothing is shown twice.
(function () {
  "use strict";
  const root = document.getElementById("inbox");
  if (!root) return;
  // Event numbers are given inside each change's transaction, so another process may commit a lower number
  // after a higher one. The socket therefore asks again for the last REPLAY_WINDOW numbers (inbox.events
  // REPLAY_WINDOW) and skips the ones it has: those the page was rendered with (data-seen) and those applied.
  const REPLAY_WINDOW = 50;
  let lastSeq = parseInt(root.dataset.seq || "0", 10) || 0;
  const seen = new Set();
  (root.dataset.seen || "").split(",").forEach(function (n) { if (n) seen.add(parseInt(n, 10)); });
  // Below this, everything is in the page as rendered (a page without data-seen trusts its data-seq alone).
  const floor = root.dataset.seen === undefined ? lastSeq : Math.max(0, lastSeq - REPLAY_WINDOW);
  let delay = 500;
  let socket = null;

  function url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = Math.max(floor, lastSeq - REPLAY_WINDOW);
    return scheme + "://" + location.host + "/ws/inbox/?since=" + since + "&known=" + lastSeq;
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
        if (seen.has(event.seq) || event.seq <= floor) return;
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
