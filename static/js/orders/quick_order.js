// The quick-order panel (templates/orders/_quick_order.html): opened from the chat header's "Quick order"
// button, it builds a draft cart, prices it live through POST /api/v1/quotes/, saves the draft as it
// changes (PUT .../order-draft/ with its version) and creates the order (POST /api/v1/orders/).
// No build step; user text only ever goes through textContent.
(function () {
  "use strict";
  const holder = document.getElementById("quick-order");
  if (!holder) return;

  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  async function api(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } };
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    const response = await fetch("/api/v1/" + path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data: data };
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (k === "testid") node.dataset.testid = v; else if (k.startsWith("data-")) node.setAttribute(k, v); else node[k] = v;
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function money(n) { return "NT$" + Number(n || 0).toLocaleString("en-US"); }
  function errorText(data) {
    if (!data) return "";
    const parts = [];
    if (data.detail) parts.push(data.detail);
    if (data.reasons) data.reasons.forEach(function (r) { parts.push(r.message); });
    else if (data.errors) Object.values(data.errors).forEach(function (m) { parts.push(m); });
    if (!data.detail && !data.errors) Object.entries(data).forEach(function ([k, v]) { parts.push(k + ": " + [].concat(v).join(" ")); });
    return parts.join(" ");
  }

  let panel = null, state = null, draft = null, version = 0, lastQuote = null, heartbeat = null;
  let quoteTimer = null, saveTimer = null, saving = Promise.resolve(), couponsShown = false, dirty = false;
  const q = function (name) { return panel.querySelector('[data-qo="' + name + '"]'); };
  const t = function (key) { const n = panel.querySelector('#qo-i18n') && panel.querySelector("#qo-i18n").content.querySelector('[data-k="' + key + '"]'); return n ? n.textContent : key; };

  async function open() {
    const conversationId = document.getElementById("inbox").dataset.conversation;
    if (!conversationId) return;
    clearInterval(heartbeat);
    const response = await fetch("/orders/quick-order/" + conversationId + "/", { credentials: "same-origin" });
    if (!response.ok) return;
    holder.innerHTML = await response.text();  // our own server-rendered, auto-escaped fragment
    holder.hidden = false;
    panel = holder.querySelector("[data-testid='qo-panel']");
    state = JSON.parse(document.getElementById("qo-state").textContent);
    draft = Object.assign({ lines: [], custom_discounts: [], tags: [], note: "", coupon_code: "", recipient: {}, invoice: {}, store: null }, state.data || {});
    version = state.version;
    bind();
    fill();
    if (panel.dataset.editable === "1" && panel.dataset.customer) {
      const claim = await api("POST", "conversations/" + conversationId + "/order-draft/editing/", { editing: true });
      if (!claim.ok) { lock(errorText(claim.data)); }
      else heartbeat = setInterval(function () { api("POST", "conversations/" + conversationId + "/order-draft/editing/", { editing: true }); }, 30000);
    }
    requestQuote();
  }

  function close() {
    if (!panel) return;
    clearInterval(heartbeat);
    if (panel.dataset.editable === "1") {
      fetch("/api/v1/conversations/" + panel.dataset.conversation + "/order-draft/editing/", {
        method: "POST", credentials: "same-origin", keepalive: true,
        headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" }, body: JSON.stringify({ editing: false }),
      });
    }
    holder.hidden = true;
    holder.replaceChildren();
    panel = null;
  }

  function lock(reason) {
    panel.dataset.editable = "0";
    panel.querySelector(".qo-body").disabled = true;
    const banner = panel.querySelector("[data-testid='qo-unavailable']");
    banner.textContent = reason;
    banner.hidden = false;
  }

  // ---- rendering the draft ------------------------------------------------------------------------
  function fill() {
    q("note").value = draft.note || "";
    panel.querySelector("[data-testid='qo-note-count']").textContent = (draft.note || "").length;
    q("coupon").value = draft.coupon_code || "";
    q("delivery").value = draft.delivery_method_id || "";
    deliveryChanged(false);
    q("payment").value = draft.payment_method_id || "";
    const r = draft.recipient || {};
    q("rcpt-name").value = r.name || ""; q("rcpt-phone").value = r.phone || ""; q("rcpt-address").value = r.address || ""; q("rcpt-country").value = r.country || "";
    if (q("address")) q("address").value = draft.address_id || "";
    showStore();
    if (q("issue-invoice")) {
      q("issue-invoice").checked = !!draft.issue_invoice;
      const inv = draft.invoice || {};
      q("inv-type").value = inv.type || "personal"; q("inv-carrier").value = inv.carrier_type || "member";
      q("inv-carrier-number").value = inv.carrier_number || ""; q("inv-business").value = inv.business_number || "";
      q("inv-title").value = inv.company_title || ""; q("inv-love").value = inv.love_code || "";
      showInvoice();
    }
    renderTags(); renderDiscounts(); renderCart();
  }

  function lineKey(line, customIndex) {
    if (line.variant_id) return "v" + line.variant_id;
    if (line.gift_id) return "g" + line.gift_id;
    return "c" + customIndex;
  }

  function renderCart() {
    const body = panel.querySelector("[data-testid='qo-cart'] tbody");
    body.replaceChildren();
    const byKey = {};
    if (lastQuote) lastQuote.lines.forEach(function (l) { byKey[l.key] = l; });
    let customs = 0;
    draft.lines.forEach(function (line, index) {
      if (line.custom) customs += 1;
      const key = lineKey(line, customs);
      const quoted = byKey[key];
      const row = el("tr", { testid: "qo-line", "data-key": key });
      const name = el("td");
      name.appendChild(el("span", { testid: "qo-line-name" }, line.name || (quoted && quoted.name) || ""));
      if (line.gift_id) name.appendChild(el("span", { className: "chip" }, t("gift")));
      if (line.custom) name.appendChild(el("span", { className: "chip" }, t("custom")));
      const picture = line.custom && customImageUrl(line.custom);
      if (picture) name.prepend(el("img", { src: picture, alt: "", height: 40, testid: "qo-line-image" }));
      if (quoted) quoted.promotions.forEach(function (p) {
        name.appendChild(el("span", { className: "chip promo", testid: "qo-line-promo", title: p.name }, p.kind_label + " " + p.name));
      });
      row.appendChild(name);
      const qty = el("input", { type: "number", min: 1, max: 999, value: line.quantity, testid: "qo-line-qty" });
      qty.addEventListener("change", function () { const n = parseInt(qty.value, 10); if (n >= 1 && n <= 999) { line.quantity = n; changed(); } });
      const qtyCell = el("td"); qtyCell.appendChild(qty); row.appendChild(qtyCell);
      row.appendChild(el("td", { testid: "qo-line-amount" }, quoted ? money(quoted.amount_after_promotions) : ""));
      const remove = el("button", { type: "button", testid: "qo-line-remove" }, t("remove"));
      remove.addEventListener("click", function () { draft.lines.splice(index, 1); changed(); renderCart(); });
      const removeCell = el("td"); removeCell.appendChild(remove); row.appendChild(removeCell);
      body.appendChild(row);
    });
  }

  // A custom product's picture is shown only from where the server stores uploads (the draft is data).
  function customImageUrl(custom) {
    const url = typeof custom.image_url === "string" ? custom.image_url : "";
    const prefix = panel.dataset.imagePrefix;
    return prefix && url.startsWith(prefix) && /^[\w-]+\.\w+$/.test(url.slice(prefix.length)) ? url : "";
  }

  function savedTagButtons() { return Array.from(panel.querySelectorAll("[data-testid='qo-saved-tag']")); }

  function renderTags() {
    const box = panel.querySelector("[data-testid='qo-tags']");
    box.replaceChildren();
    const saved = savedTagButtons().map(function (b) { return b.dataset.tag.toLowerCase(); });
    draft.tags.forEach(function (tag, index) {
      const chip = el("span", { className: "chip", testid: "qo-tag" }, tag);
      if (saved.indexOf(tag.toLowerCase()) === -1 && panel.dataset.editable === "1") {
        const keep = el("button", { type: "button", className: "x", testid: "qo-tag-save", title: t("saveTag") }, "☆ " + t("saveTag"));
        keep.addEventListener("click", function () { saveTag(tag, keep); });
        chip.appendChild(keep);
      }
      const x = el("button", { type: "button", className: "x", "aria-label": t("remove") }, "×");
      x.addEventListener("click", function () { draft.tags.splice(index, 1); renderTags(); changed(); });
      chip.appendChild(x);
      box.appendChild(chip);
    });
    const full = draft.tags.length >= parseInt(panel.dataset.maxTags, 10);
    q("tag-input").disabled = full;
    savedTagButtons().forEach(function (b) { b.disabled = full || draft.tags.indexOf(b.dataset.tag) !== -1; });
  }

  function addTag(text) {
    const tag = String(text || "").trim().replace(/\s+/g, " ");
    if (tag && draft.tags.indexOf(tag) === -1 && draft.tags.length < parseInt(panel.dataset.maxTags, 10)) { draft.tags.push(tag); changed(); }
    renderTags();
  }

  // Save a typed tag as one of the shop's saved tags, then offer it with the others.
  async function saveTag(tag, button) {
    button.disabled = true;
    const result = await api("POST", "order-tags/", { name: tag });
    if (!panel) return;
    const error = panel.querySelector("[data-testid='qo-error']");
    if (!result.ok) { error.textContent = errorText(result.data); button.disabled = false; return; }
    error.textContent = "";
    const list = panel.querySelector("[data-testid='qo-saved-tags']");
    const hint = list.querySelector("[data-testid='qo-no-saved-tags']");
    if (hint) hint.remove();
    if (!savedTagButtons().some(function (b) { return b.dataset.tag.toLowerCase() === result.data.name.toLowerCase(); })) {
      list.append(el("button", { type: "button", className: "chip", testid: "qo-saved-tag", "data-tag": result.data.name }, result.data.name), " ");
    }
    renderTags();
  }

  function renderDiscounts() {
    const box = panel.querySelector("[data-testid='qo-discounts']");
    box.replaceChildren();
    draft.custom_discounts.forEach(function (d, index) {
      const row = el("div", { className: "qo-row", testid: "qo-discount" });
      const label = el("input", { value: d.label || "", maxLength: 50, placeholder: t("label"), testid: "qo-discount-label" });
      const amount = el("input", { type: "number", min: 0, step: 1, value: d.amount, placeholder: t("amount"), testid: "qo-discount-amount" });
      label.addEventListener("input", function () { d.label = label.value; changed(); });
      amount.addEventListener("input", function () { d.amount = Math.max(0, parseInt(amount.value, 10) || 0); changed(); });
      const x = el("button", { type: "button", testid: "qo-discount-remove" }, t("remove"));
      x.addEventListener("click", function () { draft.custom_discounts.splice(index, 1); renderDiscounts(); changed(); });
      row.append(label, amount, x);
      box.appendChild(row);
    });
    q("add-discount").disabled = draft.custom_discounts.length >= parseInt(panel.dataset.maxDiscounts, 10);
  }

  function selectedDelivery() { const o = q("delivery").selectedOptions[0]; return o && o.value ? o : null; }

  function deliveryChanged(reset) {
    const option = selectedDelivery();
    const allowed = JSON.parse(document.getElementById("qo-payments").textContent);
    const ids = option ? allowed[option.value] || [] : [];
    Array.from(q("payment").options).forEach(function (o) { if (o.value) o.hidden = o.disabled = !!option && ids.indexOf(parseInt(o.value, 10)) === -1; });
    if (reset && q("payment").selectedOptions[0] && q("payment").selectedOptions[0].disabled) q("payment").value = "";
    const chain = option ? option.dataset.chain : "";
    panel.querySelector("[data-testid='qo-store']").hidden = !chain;
    const cross = option && option.dataset.crossBorder === "1";
    q("rcpt-country").hidden = !cross;
    panel.querySelector("[data-testid='qo-english-hint']").hidden = !cross;
    q("rcpt-address").hidden = !!chain && !cross;
    if (reset) { draft.store = null; showStore(); }
  }

  function showStore() {
    const picked = panel.querySelector("[data-testid='qo-store-picked']");
    picked.textContent = draft.store ? draft.store.name + " · " + draft.store.address : "";
  }

  function showInvoice() {
    const on = q("issue-invoice").checked;
    const summary = panel.querySelector("[data-testid='qo-invoice-summary']");
    summary.textContent = on && draft.invoice && draft.invoice.summary ? draft.invoice.summary : "";
    panel.querySelector(".qo-invoice-edit").hidden = !on || !!summary.textContent;
    q("edit-invoice").hidden = !on || !summary.textContent;
  }

  function renderQuote(quote) {
    lastQuote = quote;
    renderCart();
    const dl = panel.querySelector("[data-testid='qo-breakdown']");
    dl.replaceChildren();
    function row(label, amount, testid) { dl.append(el("dt", {}, label), el("dd", { testid: testid || "" }, money(amount))); }
    row(t("subtotal"), quote.subtotal, "qo-subtotal");
    quote.adjustments.forEach(function (a) { row(a.kind_label ? a.kind_label + " " + a.label : a.label, a.amount, "qo-adj-" + a.step); });
    if (quote.tax.mode === "included" && quote.tax.amount) row(t("taxIncluded"), quote.tax.amount, "qo-tax-included");
    // How the tax was worked out (the rate and the sum), as the seed asks the amount details to show.
    if (quote.tax.formula) dl.append(el("dt", {}, t("taxFormula")), el("dd", { testid: "qo-tax-formula", className: "hint" }, quote.tax.rate + "%: " + quote.tax.formula));
    panel.querySelector("[data-testid='qo-total']").textContent = money(quote.total);
    panel.querySelector("[data-testid='qo-total']").dataset.amount = quote.total;
    const notices = panel.querySelector("[data-testid='qo-notices']");
    notices.replaceChildren();
    quote.notices.forEach(function (n) { notices.appendChild(el("li", { testid: "qo-notice", "data-code": n.code }, n.message)); });
    const credit = quote.credit;
    panel.querySelector("[data-testid='qo-credit']").hidden = !credit.offered;
    const input = q("credit");
    input.readOnly = !credit.editable;
    input.max = credit.max_allowed;
    if (document.activeElement !== input) input.value = credit.applied;
    panel.querySelector("[data-testid='qo-credit-info']").textContent = money(credit.balance) + " · max " + money(credit.max_allowed);
  }

  // ---- changes: live quote + saved draft ------------------------------------------------------------
  function changed() {
    dirty = true;
    clearTimeout(quoteTimer); quoteTimer = setTimeout(requestQuote, 200);
    clearTimeout(saveTimer); saveTimer = setTimeout(saveDraft, 500);
  }

  function quoteBody() {
    return {
      lines: draft.lines.map(function (l) {
        return l.custom ? { custom: { name: l.custom.name, unit_price: l.custom.unit_price, taxable: !!l.custom.taxable }, quantity: l.quantity }
          : l.gift_id ? { gift_id: l.gift_id, quantity: l.quantity } : { variant_id: l.variant_id, quantity: l.quantity };
      }),
      coupon_code: draft.coupon_code || "",
      custom_discounts: draft.custom_discounts.map(function (d) { return { label: d.label || "", amount: d.amount || 0 }; }),
      delivery_method_id: draft.delivery_method_id || null,
      customer_id: panel.dataset.customer ? parseInt(panel.dataset.customer, 10) : null,
      credit_amount: draft.credit_amount === undefined ? null : draft.credit_amount,
    };
  }

  let quoteSeq = 0;
  async function requestQuote() {
    if (!panel) return;
    const seq = ++quoteSeq;
    const result = await api("POST", "quotes/", quoteBody());
    if (!panel || seq !== quoteSeq) return;
    const error = panel.querySelector("[data-testid='qo-error']");
    if (result.ok) { error.textContent = ""; renderQuote(result.data); }
    else { error.textContent = errorText(result.data); }
  }

  async function saveDraft() {
    if (!panel || panel.dataset.editable !== "1") return;
    const conversationId = panel.dataset.conversation;
    dirty = false;
    saving = saving.then(async function () {
      const result = await api("PUT", "conversations/" + conversationId + "/order-draft/", { data: draft, version: version });
      if (!panel) return;
      if (result.ok) { version = result.data.version; if (couponsShown) fetchCoupons(); return; }
      if (result.status === 409 && result.data && result.data.draft) {
        version = result.data.draft.version;
        if (!result.data.draft.editable) lock(result.data.draft.reason);
        else { draft = Object.assign(draft, result.data.draft.data); fill(); }
      }
      panel.querySelector("[data-testid='qo-error']").textContent = errorText(result.data) || t("saveFailed");
    });
    return saving;
  }

  // ---- product, store and coupon search --------------------------------------------------------------
  let searchTimer = null;
  async function searchProducts() {
    const list = panel.querySelector("[data-testid='qo-results']");
    const result = await api("GET", "products/?q=" + encodeURIComponent(q("search").value.trim()) + "&limit=20");
    if (!panel || !result.ok) return;
    list.replaceChildren();
    if (!result.data.length) list.appendChild(el("li", {}, t("noResults")));
    result.data.forEach(function (product) {
      const item = el("li", { testid: "qo-result", "data-product": product.id });
      item.appendChild(el("span", { className: "name" }, product.name));
      const select = el("select", { testid: "qo-variant", "aria-label": product.name });
      product.variants.forEach(function (v) {
        select.appendChild(el("option", { value: v.id, disabled: v.stock <= 0 }, (v.label || product.name) + " · " + money(v.price) + " · " + v.stock + " " + t("left")));
      });
      const firstInStock = product.variants.find(function (v) { return v.stock > 0; });
      if (firstInStock) select.value = firstInStock.id;
      const add = el("button", { type: "button", testid: "qo-add" }, t("add"));
      add.disabled = !firstInStock;
      add.addEventListener("click", function () {
        const variantId = parseInt(select.value, 10);
        const variant = product.variants.find(function (v) { return v.id === variantId; });
        const existing = draft.lines.find(function (l) { return l.variant_id === variantId; });
        if (existing) existing.quantity += 1;
        else draft.lines.push({ variant_id: variantId, quantity: 1, name: (product.name + " " + (variant.label || "")).trim() });
        renderCart(); changed();
      });
      item.append(select, add);
      list.appendChild(item);
    });
  }

  // Focus and typing both search; answers can come back out of order, so only the latest search's are shown
  // (an earlier, broader answer arriving last would list the wrong stores under what was typed).
  let storeSearches = 0;
  async function searchStores() {
    const option = selectedDelivery();
    if (!option || !option.dataset.chain) return;
    const list = panel.querySelector("[data-testid='qo-store-results']");
    const mine = ++storeSearches;
    const result = await api("GET", "stores/?chain=" + encodeURIComponent(option.dataset.chain) + "&q=" + encodeURIComponent(q("store-search").value.trim()));
    if (!panel || !result.ok || mine !== storeSearches) return;
    list.replaceChildren();
    result.data.forEach(function (store) {
      const item = el("li", { testid: "qo-store-result" });
      const pick = el("button", { type: "button", testid: "qo-store-pick" }, store.name);
      pick.addEventListener("click", function () {
        draft.store = { id: store.id, chain: store.chain, name: store.name, address: store.address };
        if (!q("rcpt-country").hidden && store.country && store.country !== "TW") {
          // Cross-border pickup: the destination is the store's country.
          draft.recipient = draft.recipient || {};
          draft.recipient.country = q("rcpt-country").value = store.country;
        }
        showStore(); list.replaceChildren(); changed();
      });
      item.append(pick, el("small", {}, " " + store.address));
      list.appendChild(item);
    });
  }

  async function loadCoupons() {
    if (!panel || !panel.dataset.customer) return;
    couponsShown = true;
    if (dirty) { clearTimeout(saveTimer); await saveDraft(); return; }  // the save refreshes the list
    await fetchCoupons();
  }

  async function fetchCoupons() {
    if (!panel) return;
    const result = await api("GET", "customers/" + panel.dataset.customer + "/coupons/?conversation=" + panel.dataset.conversation);
    if (!panel || !result.ok) return;
    const list = panel.querySelector("[data-testid='qo-coupons']");
    list.replaceChildren();
    result.data.forEach(function (c) {
      const item = el("li", { testid: "qo-coupon-option", "data-code": c.code });
      const pick = el("button", { type: "button", testid: "qo-coupon-pick" }, t("use"));
      pick.addEventListener("click", function () { draft.coupon_code = c.code; q("coupon").value = c.code; changed(); });
      item.append(el("span", {}, c.code + " · " + c.label + " · −" + money(c.discount)), pick);
      list.appendChild(item);
    });
  }

  // ---- events --------------------------------------------------------------------------------------
  function bind() {
    q("close").addEventListener("click", close);
    q("search").addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(searchProducts, 200); });
    q("search").addEventListener("focus", function () { if (!panel.querySelector("[data-testid='qo-result']")) searchProducts(); });
    q("add-gift").addEventListener("click", function () {
      const option = q("gift").selectedOptions[0];
      if (!option || !option.value) return;
      const id = parseInt(option.value, 10);
      const existing = draft.lines.find(function (l) { return l.gift_id === id; });
      if (existing) existing.quantity += 1; else draft.lines.push({ gift_id: id, quantity: 1, name: option.dataset.name });
      renderCart(); changed();
    });
    q("add-custom").addEventListener("click", addCustom);
    q("delivery").addEventListener("change", function () {
      draft.delivery_method_id = q("delivery").value ? parseInt(q("delivery").value, 10) : null;
      deliveryChanged(true);
      draft.payment_method_id = q("payment").value ? parseInt(q("payment").value, 10) : null;
      changed();
    });
    q("payment").addEventListener("change", function () { draft.payment_method_id = q("payment").value ? parseInt(q("payment").value, 10) : null; changed(); });
    q("store-search").addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(searchStores, 200); });
    q("store-search").addEventListener("focus", searchStores);
    ["name", "phone", "address", "country"].forEach(function (field) {
      q("rcpt-" + field).addEventListener("input", function () { draft.recipient = draft.recipient || {}; draft.recipient[field] = q("rcpt-" + field).value; changed(); });
    });
    if (q("address")) q("address").addEventListener("change", function () {
      const o = q("address").selectedOptions[0];
      draft.address_id = o && o.value ? parseInt(o.value, 10) : null;
      if (draft.address_id) {
        draft.recipient = Object.assign(draft.recipient || {}, { name: o.dataset.name, phone: o.dataset.phone, address: o.dataset.address });
        q("rcpt-name").value = o.dataset.name; q("rcpt-phone").value = o.dataset.phone; q("rcpt-address").value = o.dataset.address;
      }
      changed();
    });
    if (q("issue-invoice")) {
      q("issue-invoice").addEventListener("change", function () { draft.issue_invoice = q("issue-invoice").checked; showInvoice(); changed(); });
      q("edit-invoice").addEventListener("click", function () { draft.invoice = Object.assign({}, draft.invoice, { summary: "" }); showInvoice(); });
      q("save-invoice").addEventListener("click", async function () {
        const body = {
          type: q("inv-type").value, carrier_type: q("inv-type").value === "personal" ? q("inv-carrier").value : "",
          carrier_number: q("inv-carrier-number").value, business_number: q("inv-business").value,
          company_title: q("inv-title").value, love_code: q("inv-love").value,
        };
        const result = await api("POST", "invoice/validate/", body);
        const error = panel.querySelector("[data-testid='qo-error']");
        if (!result.ok) { error.textContent = errorText(result.data); return; }
        error.textContent = "";
        draft.invoice = result.data; showInvoice(); changed();
      });
    }
    q("tag-input").addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();
      addTag(q("tag-input").value);
      q("tag-input").value = "";
    });
    panel.querySelector("[data-testid='qo-saved-tags']").addEventListener("click", function (e) {
      const button = e.target.closest("[data-testid='qo-saved-tag']");
      if (button && !button.disabled) addTag(button.dataset.tag);
    });
    q("note").addEventListener("input", function () {
      draft.note = q("note").value.slice(0, parseInt(panel.dataset.maxNote, 10));
      panel.querySelector("[data-testid='qo-note-count']").textContent = draft.note.length;
      changed();
    });
    q("add-discount").addEventListener("click", function () {
      if (draft.custom_discounts.length >= parseInt(panel.dataset.maxDiscounts, 10)) return;
      draft.custom_discounts.push({ label: "", amount: 0 }); renderDiscounts(); changed();
    });
    q("apply-coupon").addEventListener("click", function () { draft.coupon_code = q("coupon").value.trim(); changed(); });
    q("clear-coupon").addEventListener("click", function () { draft.coupon_code = ""; q("coupon").value = ""; changed(); });
    q("coupon").addEventListener("focus", loadCoupons);
    q("credit").addEventListener("input", function () {
      const n = parseInt(q("credit").value, 10);
      draft.credit_amount = Number.isFinite(n) && n >= 0 ? n : null; changed();
    });
    q("create").addEventListener("click", createOrder);
  }

  // A custom product: its picture (if one was chosen) is uploaded first, checked and re-encoded on the
  // server; the line keeps the upload's id (for the order) and URL (for the cart).
  async function addCustom() {
    const name = q("custom-name").value.trim();
    const price = parseInt(q("custom-price").value, 10);
    const qty = parseInt(q("custom-qty").value, 10) || 1;
    if (!name || !(price >= 0)) return;
    const custom = { name: name, unit_price: price, taxable: false, publish: q("custom-publish").checked };
    const file = q("custom-image").files[0];
    const error = panel.querySelector("[data-testid='qo-error']");
    if (file) {
      const button = q("add-custom");
      button.disabled = true;
      error.textContent = t("uploading");
      const form = new FormData();
      form.append("image", file);
      let result = null, data = null;
      try {
        result = await fetch("/api/v1/custom-product-images/", {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }, body: form,
        });
        data = await result.json();
      } catch (e) { data = null; }
      if (!panel) return;
      button.disabled = false;
      if (!result || !result.ok || !data) { error.textContent = errorText(data) || t("saveFailed"); return; }
      error.textContent = "";
      custom.image_id = data.id;
      custom.image_url = data.url;
    }
    draft.lines.push({ custom: custom, quantity: qty, name: name });
    q("custom-name").value = ""; q("custom-price").value = ""; q("custom-qty").value = 1; q("custom-image").value = "";
    renderCart(); changed();
  }

  async function createOrder() {
    clearTimeout(quoteTimer);
    await requestQuote();
    clearTimeout(saveTimer);
    await saveDraft();
    const error = panel.querySelector("[data-testid='qo-error']");
    if (!lastQuote) return;
    const button = q("create");
    button.disabled = true;
    const body = Object.assign({}, draft, { expected_total: lastQuote.total });
    const result = await api("POST", "orders/", { conversation_id: parseInt(panel.dataset.conversation, 10), draft: body });
    button.disabled = false;
    if (!result.ok) { error.textContent = errorText(result.data); if (result.status === 409) requestQuote(); return; }
    error.textContent = "";
    const done = panel.querySelector("[data-testid='qo-created']");
    done.textContent = t("created").replace("%(number)s", result.data.number).replace("%(total)s", Number(result.data.total).toLocaleString("en-US"));
    done.dataset.order = result.data.id;
    done.dataset.total = result.data.total;
    done.hidden = false;
    panel.querySelector(".qo-body").disabled = true;
    document.dispatchEvent(new CustomEvent("orders:created", { detail: result.data }));
    await offerLink(result.data.id, done);
  }

  // After the order: say what sending its confirmation link would do now (free reply, paid push, or
  // not allowed and why), then send it on one click.
  async function offerLink(orderId, after) {
    const box = el("div", { className: "qo-link", testid: "qo-link" });
    const note = el("p", { className: "hint", testid: "qo-link-window" });
    const send = el("button", { type: "button", className: "primary", testid: "qo-send-link" }, t("sendLink"));
    const outcome = el("p", { testid: "qo-link-result" });
    box.append(note, send, outcome);
    after.after(box);
    const decision = await api("GET", "orders/" + orderId + "/link/");
    const window = decision.ok && decision.data.window;
    if (window) note.textContent = window.reason;
    send.disabled = Boolean(window && !window.allowed);
    send.addEventListener("click", async function () {
      send.disabled = true;
      const sent = await api("POST", "orders/" + orderId + "/link/");
      if (sent.ok && sent.data.sent) {
        outcome.textContent = t("sent");
      } else {
        outcome.textContent = (sent.data && (sent.data.reason || sent.data.detail)) || ("Error " + sent.status);
        send.disabled = false;
      }
    });
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest('[data-action="quick-order"]')) { e.preventDefault(); if (holder.hidden || !panel) open(); else close(); }
  });
  document.addEventListener("inbox:event", function (e) {
    const event = e.detail;
    if (!panel || !event) return;
    const conversation = panel.dataset.conversation;
    if (event.type === "order_draft" && String(event.conversation_id) === conversation) {
      if (panel.dataset.editable !== "1") open();  // someone else's edits, seen live
    } else if (event.type === "customer" && !panel.dataset.customer &&
               (event.conversation_ids || []).map(String).indexOf(conversation) !== -1) {
      open();  // the chat was just bound to a member (in the customer pane, here or elsewhere): the panel opens for them
    }
  });
})();
