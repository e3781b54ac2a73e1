// The inbox page's behaviour: live updates (fragments re-rendered by the server), the composer, saved
// replies, and the conversation actions. All writes go through the JSON API with the session.
(function () {
  "use strict";
  const root = document.getElementById("inbox");
  if (!root) return;
  const conversationId = root.dataset.conversation ? parseInt(root.dataset.conversation, 10) : null;
  const rows = document.getElementById("rows");
  const timeline = document.getElementById("timeline");

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function api(method, path, body) {
    const options = { method: method, headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }, credentials: "same-origin" };
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
    const response = await fetch("/api/v1/" + path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty body */ }
    return { status: response.status, data: data };
  }

  async function fragment(path) {
    const response = await fetch(path, { credentials: "same-origin" });
    if (!response.ok) return null;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    return template.content.firstElementChild;
  }

  // ---- the list -------------------------------------------------------------------------------
  function matchesFilters(c) {
    const d = root.dataset;
    if (d.channel && String(c.channel_id) !== d.channel) return false;
    if (d.view === "unread" && !c.unread_count) return false;
    if (d.view === "read" && c.unread_count) return false;
    if (d.view === "starred" && !c.starred) return false;
    if (d.view === "needs_reply" && !c.needs_reply) return false;
    if (d.assignee === "me" && !(c.assignee && String(c.assignee.id) === d.user)) return false;
    if (d.assignee === "none" && c.assignee) return false;
    if (d.assignee && d.assignee !== "me" && d.assignee !== "none" && !(c.assignee && String(c.assignee.id) === d.assignee)) return false;
    return true;
  }

  async function refreshRow(c, moveToTop) {
    if (!rows) return;
    const existing = rows.querySelector('li.row[data-id="' + c.id + '"]');
    const canInsert = !root.dataset.q && root.dataset.sort === "recent";
    if (!matchesFilters(c)) { if (existing) existing.remove(); return; }
    if (!existing && !canInsert) return;
    const row = await fragment("/inbox/fragments/row/" + c.id + "/" + location.search);
    if (!row) return;
    if (c.id === conversationId) row.classList.add("selected");
    const current = rows.querySelector('li.row[data-id="' + c.id + '"]');
    if (current && !moveToTop) { current.replaceWith(row); return; }
    if (current) current.remove();
    const empty = rows.querySelector("li.empty");
    if (empty) empty.remove();
    rows.insertBefore(row, rows.firstElementChild);
  }

  // Tab counts: conversation events carry them whole (`unread_counts`); a new message carries only what it
  // adds (`unread_delta`, when it made a read conversation unread), applied once per event like everything else.
  function setCounts(counts) {
    if (!counts) return;
    document.querySelectorAll("[data-unread-for]").forEach(function (el) {
      const n = counts[el.dataset.unreadFor];
      el.textContent = n ? String(n) : "";
    });
  }

  function addToCounts(delta) {
    if (!delta) return;
    document.querySelectorAll("[data-unread-for]").forEach(function (el) {
      const add = delta[el.dataset.unreadFor];
      if (!add) return;
      const n = (parseInt(el.textContent, 10) || 0) + add;
      el.textContent = n > 0 ? String(n) : "";
    });
  }

  // A delta can't mend a count that is already off (an event committed between the page's counts and its event
  // number; a staff action's full counts overtaking an earlier message's delta). So, a little after the last
  // delta and whenever the socket (re)connects, the page asks for the absolute counts; a delta that arrives
  // while that answer is on its way asks again.
  const COUNTS_RESYNC_MS = 2000;
  let countsTimer = null;
  let countsInFlight = false;
  let deltaDuringFetch = false;
  function resyncCountsSoon(delay) {
    if (countsInFlight) deltaDuringFetch = true;
    clearTimeout(countsTimer);
    countsTimer = setTimeout(async function () {
      countsInFlight = true;
      deltaDuringFetch = false;
      try {
        const response = await fetch("/api/v1/conversations/?limit=1", { credentials: "same-origin" });
        if (response.ok) setCounts((await response.json()).unread_counts);
      } catch (err) {
        // offline: the next delta or reconnect asks again
      } finally {
        countsInFlight = false;
        if (deltaDuringFetch) resyncCountsSoon(COUNTS_RESYNC_MS);
      }
    }, delay);
  }
  document.addEventListener("inbox:connection", function (e) {
    if (e.detail && e.detail.live) resyncCountsSoon(300);
  });

  // ---- the chat -------------------------------------------------------------------------------
  async function upsertMessage(id) {
    if (!timeline) return;
    const el = await fragment("/inbox/fragments/message/" + id + "/");
    if (!el) return;
    const existing = timeline.querySelector('li.msg[data-id="' + id + '"]');
    if (existing) { existing.replaceWith(el); return; }
    timeline.appendChild(el);
    timeline.scrollTop = timeline.scrollHeight;
  }

  async function refreshHeader() {
    const holder = document.getElementById("chat-header");
    if (!holder || !conversationId) return;
    const note = holder.querySelector('[data-action="note"]');
    const typing = note && document.activeElement === note;
    const el = await fragment("/inbox/fragments/header/" + conversationId + "/");
    if (!el) return;
    if (typing) el.querySelector('[data-action="note"]').replaceWith(note);
    holder.replaceChildren(el);
  }

  document.addEventListener("inbox:event", async function (e) {
    const event = e.detail;
    if (event.unread_counts) setCounts(event.unread_counts);
    else if (event.unread_delta) { addToCounts(event.unread_delta); resyncCountsSoon(COUNTS_RESYNC_MS); }
    if (event.type === "message") {
      const convId = event.message ? event.message.conversation_id : event.conversation_id;
      if (event.op === "add" && event.conversation) await refreshRow(event.conversation, true);
      if (convId === conversationId) {
        if (event.op === "state") { for (const id of event.ids) await upsertMessage(id); }
        else await upsertMessage(event.message.id);
        if (event.op === "add") await refreshHeader();
      }
    } else if (event.type === "conversation") {
      await refreshRow(event.conversation, event.op === "due");
      if (event.conversation.id === conversationId) await refreshHeader();
    }
  });

  // ---- composer ---------------------------------------------------------------------------------
  const composer = document.getElementById("composer");
  const text = document.getElementById("composer-text");
  const error = document.getElementById("composer-error");
  const saved = document.getElementById("saved-replies");

  function showError(message, confirmLabel, onConfirm) {
    error.textContent = message || "";
    if (confirmLabel) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "confirm-paid";
      button.dataset.testid = "confirm-paid";
      button.textContent = confirmLabel;
      button.addEventListener("click", onConfirm, { once: true });
      error.appendChild(document.createTextNode(" "));
      error.appendChild(button);
    }
  }

  async function send(confirmPaid) {
    const form = new FormData(composer);
    if (!form.get("text").trim() && !(form.get("image") && form.get("image").size)) return;
    if (confirmPaid) form.set("confirm_paid", "true");
    showError("");
    const result = await api("POST", "conversations/" + conversationId + "/messages/", form);
    if (result.status === 201) {
      composer.reset();
      saved.hidden = true;
      await upsertMessage(result.data.id);
      await refreshHeader();
      return;
    }
    if (result.status === 409 && result.data.needs_confirmation) {
      showError(result.data.detail, composer.dataset.confirmLabel || "Send as paid message", function () { send(true); });
      return;
    }
    showError(result.data.detail || ("Error " + result.status));
  }

  if (composer) {
    composer.dataset.confirmLabel = document.documentElement.lang.startsWith("zh") ? "確認以付費訊息傳送" : "Send as paid message";
    composer.addEventListener("submit", function (e) { e.preventDefault(); send(false); });
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(false); }
    });
    text.addEventListener("input", async function () {
      const value = text.value;
      if (!value.startsWith("/")) { saved.hidden = true; return; }
      const response = await fetch("/inbox/fragments/saved-replies/?q=" + encodeURIComponent(value.slice(1)), { credentials: "same-origin" });
      saved.innerHTML = await response.text(); // server-rendered and escaped by the template
      saved.hidden = false;
    });
    saved.addEventListener("click", function (e) {
      const button = e.target.closest(".saved-reply");
      if (!button) return;
      text.value = button.dataset.text;
      saved.hidden = true;
      text.focus();
    });

    // Saving what was typed as a saved reply (every staff member may; admins change and delete them).
    const saveForm = document.getElementById("save-reply");
    const shortcut = document.getElementById("save-reply-shortcut");
    const saveDone = document.getElementById("save-reply-done");
    document.getElementById("save-reply-open").addEventListener("click", function () {
      saveDone.textContent = "";
      saveForm.hidden = !saveForm.hidden;
      if (!saveForm.hidden) shortcut.focus();
    });
    async function saveReply() {
      showError("");
      const result = await api("POST", "saved-replies/", { shortcut: shortcut.value.trim().replace(/^\//, ""), text: text.value });
      if (result.status === 201) {
        saveForm.hidden = true;
        shortcut.value = "";
        saveDone.textContent = "/" + result.data.shortcut + " ✓";
        return;
      }
      const errors = result.data || {};
      showError([].concat(errors.shortcut || [], errors.text || [], errors.detail || []).join(" ") || ("Error " + result.status));
    }
    document.getElementById("save-reply-confirm").addEventListener("click", saveReply);
    shortcut.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); saveReply(); }
    });
  }

  // ---- conversation actions --------------------------------------------------------------------
  document.addEventListener("click", async function (e) {
    const target = e.target.closest("[data-action], [data-retry]");
    if (!target || !conversationId) return;
    const action = target.dataset.action;
    if (target.dataset.retry) {
      await retry(parseInt(target.dataset.retry, 10), false);
    } else if (action === "take") {
      await act("assign", { assignee: "me" });
    } else if (action === "star") {
      await act("star", { starred: target.dataset.starred !== "1" });
    } else if (action === "read") {
      await act("read", { read: target.dataset.read === "1" });
    }
  });

  document.addEventListener("change", async function (e) {
    const target = e.target;
    if (!conversationId || !target.dataset || !target.dataset.action) return;
    if (target.dataset.action === "assign") await act("assign", { assignee: target.value ? parseInt(target.value, 10) : null });
    if (target.dataset.action === "star-due") {
      const due = target.value ? new Date(target.value).toISOString() : null;
      await act("star", { starred: true, due_at: due });
    }
    if (target.dataset.action === "note") await act("note", { note: target.value });
  });

  async function retry(messageId, confirmPaid) {
    showError("");
    const result = await api("POST", "messages/" + messageId + "/retry/", { confirm_paid: confirmPaid });
    if (result.status === 409 && result.data.needs_confirmation) {
      showError(result.data.detail, composer.dataset.confirmLabel, function () { retry(messageId, true); });
    } else if (result.status >= 400) {
      showError(result.data.detail || ("Error " + result.status));
    } else {
      await upsertMessage(messageId);
    }
  }

  async function act(name, body) {
    const result = await api("POST", "conversations/" + conversationId + "/" + name + "/", body);
    if (result.status >= 400) { alert(result.data.detail || ("Error " + result.status)); return; }
    await refreshHeader();
    if (result.data && result.data.id) await refreshRow(result.data, false);
  }

  // Paging: more conversations at the bottom of the list, earlier messages at the top of the chat.
  document.addEventListener("click", async function (e) {
    const more = e.target.closest("[data-more]");
    if (more) {
      e.preventDefault();
      const url = new URL(more.href, location.href);
      url.searchParams.set("fragment", "rows");
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const holder = more.closest("li");
      template.content.querySelectorAll("li.row").forEach(function (row) {
        if (!rows.querySelector('li.row[data-id="' + row.dataset.id + '"]')) rows.insertBefore(row, holder);
      });
      const next = template.content.querySelector("li.more");
      if (next) holder.replaceWith(next); else holder.remove();
      return;
    }
    const older = e.target.closest("[data-older]");
    if (older && conversationId) {
      const response = await fetch("/inbox/fragments/timeline/" + conversationId + "/?before=" + older.dataset.older, { credentials: "same-origin" });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const holder = older.closest("li");
      const firstDay = timeline.querySelector("li.day");
      const lastNewDay = Array.from(template.content.querySelectorAll("li.day")).pop();
      if (firstDay && lastNewDay && firstDay.dataset.day === lastNewDay.dataset.day) firstDay.remove();
      holder.replaceWith(template.content);
    }
  });

  // Opening a conversation marks it read.
  if (conversationId) {
    const row = rows && rows.querySelector('li.row[data-id="' + conversationId + '"]');
    if (row && row.classList.contains("unread")) act("read", { read: true });
    if (timeline) timeline.scrollTop = timeline.scrollHeight;
  }

  // Images open large in an overlay; Escape or a click closes it.
  document.addEventListener("click", function (e) {
    const link = e.target.closest("a.enlarge");
    if (!link) return;
    e.preventDefault();
    const overlay = document.createElement("div");
    overlay.className = "lightbox";
    overlay.dataset.testid = "lightbox";
    const img = document.createElement("img");
    img.src = link.href;
    overlay.appendChild(img);
    overlay.addEventListener("click", function () { overlay.remove(); });
    document.addEventListener("keydown", function esc(k) { if (k.key === "Escape") { overlay.remove(); document.removeEventListener("keydown", esc); } });
    document.body.appendChild(overlay);
  });
})();
