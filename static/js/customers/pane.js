// The inbox's right pane: the store member beside the open chat. The server renders the pane
// (/customers/pane/<conversation>/); this script loads it, sends what the agent does to the JSON API
// (/api/v1/...) with the session, and reloads it. Text from people only ever reaches the page through
// the server's escaping template or textContent.
//
// The three outcomes of a change to a member's details each get their prompt: "updated" (saved),
// "duplicate" (another member has these details: merge / update binding, or re-enter) and "reenter"
// (the email and the phone belong to two different members).
(function () {
  "use strict";
  const holder = document.getElementById("customer-pane");
  if (!holder || !holder.dataset.conversation) return;
  const conversationId = parseInt(holder.dataset.conversation, 10);
  let strings = {};
  let lastPrompt = null;
  let loadSeq = 0;
  let searchSeq = 0;
  let searchTimer = null;

  // ---- plumbing ---------------------------------------------------------------------------------
  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch("/api/v1/" + path, options);
    } catch (e) {
      return { status: 0, data: {} };
    }
    let data = {};
    try { data = await response.json(); } catch (e) { /* 204 or not JSON */ }
    return { status: response.status, data: data };
  }

  function message(data) {
    if (!data) return strings.error;
    if (typeof data.detail === "string") return data.detail;
    const parts = [];
    Object.keys(data).forEach(function (key) {
      const value = data[key];
      (Array.isArray(value) ? value : [value]).forEach(function (v) { if (typeof v === "string") parts.push(v); });
    });
    return parts.join(" ") || strings.error;
  }

  function node(tag, text, className) {
    const el = document.createElement(tag);
    if (text) el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function pane() { return holder.querySelector(".cust-pane"); }
  function q(testid) { return holder.querySelector('[data-testid="' + testid + '"]'); }
  function customerId() {
    const p = pane();
    return p && p.dataset.customer ? parseInt(p.dataset.customer, 10) : null;
  }

  // ---- loading ----------------------------------------------------------------------------------
  // What the agent is typing elsewhere in the pane survives a reload: the field with the focus keeps
  // its text, caret and focus, unless it is one of the fields just saved (those show the stored value).
  function typing(saved) {
    const active = document.activeElement;
    if (!active || !holder.contains(active) || !active.dataset.testid) return null;
    if (!/^(INPUT|TEXTAREA)$/.test(active.tagName) || active.type === "checkbox") return null;
    if ((saved || []).indexOf(active.dataset.testid) !== -1 || active.value === active.defaultValue) return null;
    return { testid: active.dataset.testid, value: active.value, start: active.selectionStart, end: active.selectionEnd };
  }

  function keepTyping(state) {
    if (!state) return;
    const el = q(state.testid);
    if (!el || el.closest("[hidden]")) return;
    el.value = state.value;
    el.focus();
    try { el.setSelectionRange(state.start, state.end); } catch (e) { /* not a text field */ }
  }

  async function load(prompt, saved) {
    const seq = ++loadSeq;
    // The action's outcome is the prompt to show from now on: a live event arriving before this answer (the
    // action's own event, usually) reloads too, supersedes this load, and must show it, not the previous one.
    if (prompt) lastPrompt = prompt;
    let response;
    try {
      response = await fetch("/customers/pane/" + conversationId + "/", { credentials: "same-origin" });
    } catch (e) {
      return;
    }
    if (seq !== loadSeq) return;
    if (!response.ok) return;
    const html = await response.text();
    if (seq !== loadSeq) return;
    const state = typing(saved);
    holder.innerHTML = html; // rendered by the server, user text escaped by the template
    const data = holder.querySelector("#cust-strings");
    try { strings = data ? JSON.parse(data.textContent) : {}; } catch (e) { strings = {}; }
    lastPrompt = prompt || null;
    if (prompt) showPrompt(prompt);
    keepTyping(state);
    holder.dataset.loaded = String(seq);
  }

  // ---- prompts ----------------------------------------------------------------------------------
  // {kind: "updated" | "duplicate" | "reenter" | "error" | "info", title, text, buttons: [{label, testid, onClick}]}
  function showPrompt(prompt) {
    const box = q("cust-prompt");
    if (!box) return;
    lastPrompt = prompt;
    box.replaceChildren();
    box.className = "cust-prompt " + prompt.kind;
    box.dataset.outcome = prompt.kind;
    if (prompt.title) box.appendChild(node("strong", prompt.title));
    box.appendChild(node("p", prompt.text));
    (prompt.details || []).forEach(function (line) { box.appendChild(node("p", line, "hint")); });
    (prompt.buttons || []).forEach(function (b) {
      const button = node("button", b.label, b.primary ? "primary" : "");
      button.type = "button";
      button.dataset.testid = b.testid;
      button.addEventListener("click", b.onClick);
      box.appendChild(button);
    });
    box.hidden = false;
  }

  function hidePrompt() {
    const box = q("cust-prompt");
    lastPrompt = null;
    if (box) { box.hidden = true; box.replaceChildren(); box.dataset.outcome = ""; }
  }

  function conflictPrompt(data, mergeLabel, onMerge, onReenter) {
    const names = (data.matches || []).map(function (m) {
      return [m.name, m.email || strings.no_email, m.phone_display || strings.no_phone].join(" · ");
    });
    const text = data.detail;
    if (data.outcome === "duplicate") {
      showPrompt({
        kind: "duplicate", title: strings.duplicate_title, text: text, details: names,
        buttons: [
          { label: mergeLabel, testid: "cust-merge", onClick: onMerge, primary: true },
          { label: strings.reenter, testid: "cust-reenter", onClick: onReenter },
        ],
      });
    } else {
      showPrompt({ kind: "reenter", title: strings.reenter_title, text: text, details: names, buttons: [{ label: strings.reenter, testid: "cust-reenter", onClick: onReenter }] });
    }
  }

  function reenter(input) {
    hidePrompt();
    if (input) { input.focus(); input.select(); }
  }

  // ---- an unbound chat: find and bind, or create -------------------------------------------------
  function bindForm() { return holder.querySelector('[data-cust="bind-form"]'); }

  function typed() {
    const form = bindForm();
    return { name: form.elements.name.value.trim(), email: form.elements.email.value.trim(), phone: form.elements.phone.value.trim() };
  }

  function searchSoon(value) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { search(value); }, 200);
  }

  async function search(value) {
    const list = q("cust-matches");
    if (!list) return;
    const seq = ++searchSeq;
    value = (value || "").trim();
    if (value.length < 2) { list.hidden = true; list.replaceChildren(); return; }
    const result = await call("GET", "customers/?limit=8&q=" + encodeURIComponent(value));
    if (seq !== searchSeq || !q("cust-matches")) return;
    list.replaceChildren();
    const rows = (result.data && result.data.results) || [];
    if (!rows.length) {
      list.appendChild(node("li", strings.no_matches, "hint"));
    }
    rows.forEach(function (m) {
      const li = node("li", "", "cust-match");
      li.dataset.testid = "cust-match";
      li.dataset.id = String(m.id);
      const who = node("div");
      who.appendChild(node("strong", m.name || "#" + m.id, "cust-match-name"));
      if (m.tier) who.appendChild(node("span", m.tier.name, "cust-chip"));
      li.appendChild(who);
      li.appendChild(node("div", [m.email || strings.no_email, m.phone_display || strings.no_phone].join(" · "), "hint"));
      const button = node("button", strings.bind);
      button.type = "button";
      button.dataset.testid = "cust-match-bind";
      button.addEventListener("click", function () { bindExisting(m.id, {}, strings.bound); });
      li.appendChild(button);
      list.appendChild(li);
    });
    list.hidden = false;
  }

  async function bindExisting(id, details, done) {
    const result = await call("POST", "conversations/" + conversationId + "/bind/", Object.assign({ customer: id }, details));
    if (result.status === 200) { await load({ kind: "updated", text: done }); return; }
    if (result.status === 409) { bindConflict(result.data); return; }
    showPrompt({ kind: "error", text: message(result.data) });
  }

  function bindConflict(data) {
    const form = bindForm();
    conflictPrompt(
      data, strings.merge,
      function () { bindExisting(data.matches[0].id, typed(), strings.merged); },
      function () { reenter(data.by_field && data.by_field.email ? form.elements.email : form.elements.phone); }
    );
  }

  async function createAndBind() {
    const error = q("cust-bind-error");
    error.textContent = "";
    hidePrompt();
    const result = await call("POST", "conversations/" + conversationId + "/bind/", typed());
    if (result.status === 201) { await load({ kind: "updated", text: strings.created }); return; }
    if (result.status === 409) { bindConflict(result.data); return; }
    error.textContent = message(result.data);
  }

  // ---- a bound member: edit in place -------------------------------------------------------------
  const FIELD_TESTIDS = { name: "cust-name", phone: "cust-phone", email: "cust-email", notes: "cust-notes", tags: "cust-tag-input" };

  async function patch(body, onConflictInput) {
    const id = customerId();
    const saved = Object.keys(body).map(function (field) { return FIELD_TESTIDS[field]; });
    const result = await call("PATCH", "customers/" + id + "/", body);
    if (result.status === 200) { await load({ kind: "updated", text: strings.updated }, saved); return true; }
    if (result.status === 409) {
      conflictPrompt(
        result.data, strings.update_binding,
        async function () {
          const merged = await call("POST", "customers/" + result.data.matches[0].id + "/merge/", Object.assign({ source: id }, loginPart(body)));
          if (merged.status === 200) await load({ kind: "updated", text: strings.merged });
          else if (merged.status === 409) patchConflictAgain(merged.data, onConflictInput);
          else showPrompt({ kind: "error", text: message(merged.data) });
        },
        function () { reenter(onConflictInput && onConflictInput(result.data)); }
      );
      return false;
    }
    showPrompt({ kind: "error", text: message(result.data) });
    return false;
  }

  function patchConflictAgain(data, onConflictInput) {
    showPrompt({ kind: "reenter", title: strings.reenter_title, text: data.detail, buttons: [{ label: strings.reenter, testid: "cust-reenter", onClick: function () { reenter(onConflictInput && onConflictInput(data)); } }] });
  }

  function loginPart(body) {
    const out = {};
    if ("email" in body) out.email = body.email;
    if ("phone" in body) out.phone = body.phone;
    return out;
  }

  function loginInput(data) {
    const form = holder.querySelector('[data-cust="login-form"]');
    if (!form) return null;
    return data && data.by_field && data.by_field.phone && !data.by_field.email ? form.elements.phone : form.elements.email;
  }

  function saveLogin(form) {
    const body = {};
    ["phone", "email"].forEach(function (field) {
      const input = form.elements[field];
      if (input.value.trim() !== (input.dataset.initial || "")) body[field] = input.value.trim();
    });
    if (!Object.keys(body).length) { showPrompt({ kind: "updated", text: strings.updated }); return; }
    patch(body, loginInput);
  }

  function currentTags() {
    return Array.prototype.map.call(holder.querySelectorAll(".cust-tag[data-tag]"), function (el) { return el.dataset.tag; });
  }

  // ---- addresses ----------------------------------------------------------------------------------
  const ADDRESS_FIELDS = ["recipient_name", "recipient_phone", "postal_code", "city", "district", "street"];

  function addressForm() { return holder.querySelector('[data-cust="address-form"]'); }

  function openAddressForm(item) {
    const form = addressForm();
    form.reset();
    form.elements.id.value = item ? item.dataset.id : "";
    if (item) ADDRESS_FIELDS.forEach(function (f) { form.elements[f].value = item.dataset[f] || ""; });
    q("cust-address-error").textContent = "";
    form.hidden = false;
    form.elements.recipient_name.focus();
  }

  async function saveAddress(form) {
    const body = {};
    ADDRESS_FIELDS.forEach(function (f) { body[f] = form.elements[f].value.trim(); });
    if (form.elements.is_default.checked) body.is_default = true;
    const id = form.elements.id.value;
    const base = "customers/" + customerId() + "/addresses/";
    const result = id ? await call("PATCH", base + id + "/", body) : await call("POST", base, body);
    if (result.status === 200 || result.status === 201) { await load({ kind: "updated", text: strings.address_saved }); return; }
    q("cust-address-error").textContent = message(result.data);
  }

  async function addressAction(item, method, body, done) {
    const result = await call(method, "customers/" + customerId() + "/addresses/" + item.dataset.id + "/", body);
    if (result.status < 300) await load({ kind: "updated", text: done });
    else showPrompt({ kind: "error", text: message(result.data) });
  }

  // ---- suggestions found in the chat --------------------------------------------------------------
  function useSuggestion(button) {
    const kind = button.dataset.kind;
    const value = button.dataset.value;
    const form = bindForm();
    if (form) {
      form.elements[kind].value = value;
      search(value);
      return;
    }
    const body = {};
    body[kind] = value;
    patch(body, loginInput);
  }

  // ---- flow (C): a member this chat's orders point at ----------------------------------------------
  // "View existing customer" shows that member (rendered by the server); the agent confirms it is the same
  // customer: the chat is bound to it, or, when the chat already has another member, that member is merged
  // into it. Details an order carries that match no member can fill the binding form instead.
  function toggleOrderMember(match, open) {
    const card = match.querySelector('[data-testid="cust-order-member"]');
    const button = match.querySelector('[data-cust="order-match-view"]');
    card.hidden = !open;
    if (button) button.setAttribute("aria-expanded", String(open));
    if (open) card.querySelector('[data-cust="order-match-confirm"]').focus();
  }

  async function confirmOrderMember(match) {
    const id = parseInt(match.dataset.customer, 10);
    const result = await call("POST", "conversations/" + conversationId + "/order-customers/", { customer: id });
    if (result.status === 200) {
      await load({ kind: "updated", text: result.data.outcome === "merged" ? strings.order_merged : strings.order_bound });
      return;
    }
    showPrompt({ kind: "error", text: message(result.data) });
  }

  function useOrderDetails(match) {
    const form = bindForm();
    if (!form) return;
    ["name", "phone", "email"].forEach(function (field) {
      if (match.dataset[field]) form.elements[field].value = match.dataset[field];
    });
    search(match.dataset.phone || match.dataset.email || match.dataset.name);
  }

  // ---- events -------------------------------------------------------------------------------------
  holder.addEventListener("click", function (e) {
    const target = e.target.closest("[data-cust]");
    if (!target || !holder.contains(target)) return;
    const action = target.dataset.cust;
    const item = target.closest(".cust-address");
    if (action === "menu") {
      const menu = q("cust-menu-items");
      menu.hidden = !menu.hidden;
      target.setAttribute("aria-expanded", String(!menu.hidden));
    } else if (action === "unbind") {
      q("cust-menu-items").hidden = true;
      q("cust-unbind-dialog").hidden = false;
      q("cust-unbind-yes").focus();
    } else if (action === "unbind-no") {
      q("cust-unbind-dialog").hidden = true;
    } else if (action === "unbind-yes") {
      call("POST", "conversations/" + conversationId + "/unbind/", {}).then(function (result) {
        if (result.status === 200) load({ kind: "info", text: strings.unbound });
        else showPrompt({ kind: "error", text: message(result.data) });
      });
    } else if (action === "tag-remove") {
      const tag = target.dataset.tag;
      patch({ tags: currentTags().filter(function (t) { return t !== tag; }) });
    } else if (action === "address-add") {
      openAddressForm(null);
    } else if (action === "address-edit") {
      openAddressForm(item);
    } else if (action === "address-cancel") {
      addressForm().hidden = true;
    } else if (action === "address-default") {
      addressAction(item, "PATCH", { is_default: true }, strings.address_saved);
    } else if (action === "address-delete") {
      addressAction(item, "DELETE", undefined, strings.address_deleted);
    } else if (action === "suggestion") {
      useSuggestion(target);
    } else if (action === "order-match-view") {
      const match = target.closest(".cust-order-match");
      toggleOrderMember(match, match.querySelector('[data-testid="cust-order-member"]').hidden);
    } else if (action === "order-match-cancel") {
      toggleOrderMember(target.closest(".cust-order-match"), false);
    } else if (action === "order-match-confirm") {
      confirmOrderMember(target.closest(".cust-order-match"));
    } else if (action === "order-match-use") {
      useOrderDetails(target.closest(".cust-order-match"));
    }
  });

  holder.addEventListener("submit", function (e) {
    const form = e.target;
    e.preventDefault();
    if (form.dataset.cust === "bind-form") createAndBind();
    else if (form.dataset.cust === "login-form") saveLogin(form);
    else if (form.dataset.cust === "address-form") saveAddress(form);
  });

  holder.addEventListener("input", function (e) {
    if (e.target.hasAttribute("data-cust-search")) searchSoon(e.target.value);
  });

  holder.addEventListener("change", function (e) {
    const field = e.target.dataset.custField;
    if (!field) return;
    const body = {};
    if (field === "tier") body.tier = e.target.value ? parseInt(e.target.value, 10) : null;
    else body[field] = e.target.value;
    patch(body);
  });

  holder.addEventListener("keydown", function (e) {
    if (e.target.dataset.cust !== "tag-input" || e.key !== "Enter" || e.isComposing) return;
    e.preventDefault();
    const tag = e.target.value.trim();
    if (!tag) return;
    const tags = currentTags();
    if (tags.indexOf(tag) === -1) tags.push(tag);
    patch({ tags: tags });
  });

  // Another agent (or this one, in another window) changed the member, the customer wrote, or an order of
  // this chat was placed or changed (its history and flow C): reload, unless the agent is in the middle of
  // typing or answering a prompt here.
  function busy() {
    const active = document.activeElement;
    if (active && holder.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return true;
    const form = bindForm();
    if (form && (form.elements.email.value || form.elements.phone.value)) return true;
    const addresses = addressForm();
    if (addresses && !addresses.hidden) return true;
    if (holder.querySelector('[data-testid="cust-order-member"]:not([hidden])')) return true;
    return Boolean(lastPrompt && (lastPrompt.kind === "duplicate" || lastPrompt.kind === "reenter"));
  }

  document.addEventListener("inbox:event", function (e) {
    const event = e.detail || {};
    const mine =
      (event.type === "customer" && (event.conversation_ids || []).indexOf(conversationId) !== -1) ||
      (event.type === "message" && event.op === "add" && event.message && event.message.conversation_id === conversationId &&
        event.message.direction === "inbound") ||
      (event.type === "order" && event.conversation_id === conversationId);
    if (mine && !busy()) load(lastPrompt && (lastPrompt.kind === "updated" || lastPrompt.kind === "info") ? lastPrompt : null);
  });

  load(null);
})();
