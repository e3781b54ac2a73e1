// The customer simulator: polls the timeline every second and posts what the customer does.
// Everything shown comes from the server as data and is put on the page with textContent / attributes,
// never as HTML.
"use strict";

(() => {
  const base = document.body.dataset.base;
  const endpoints = JSON.parse(document.getElementById("sandbox-endpoints").textContent);
  const $ = (selector) => document.querySelector(selector);
  const state = { user: null, platform: null, lastId: 0 };

  async function api(path, options = {}) {
    const headers = { "X-CSRFToken": $("[name=csrfmiddlewaretoken]").value };
    const response = await fetch(base + path, { ...options, headers });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  // Fields as FormData or a plain object; none at all sends an empty body (an empty multipart form is refused).
  function post(path, fields) {
    let body = fields;
    if (fields && !(fields instanceof FormData)) {
      body = new FormData();
      Object.entries(fields).forEach(([name, value]) => body.append(name, value));
    }
    return api(path, { method: "POST", body });
  }

  function showStatus(text, isError = false) {
    $("#status").textContent = text;
    $("#status").classList.toggle("error", isError);
  }

  const showError = (error) => showStatus(error.message, true);

  function selectedChannel() {
    const [platform, ...key] = $("#channel").value.split(":");
    return { platform, key: key.join(":") };
  }

  // --- Customers ---

  async function loadUsers(selectId) {
    const { platform, key } = selectedChannel();
    if (!platform) return;
    const query = new URLSearchParams({ platform, channel: key });
    const data = await api(`api/users?${query}`);
    const select = $("#user");
    select.replaceChildren(...data.users.map(userOption));
    if (selectId) select.value = String(selectId);
    selectUser();
  }

  function userOption(user) {
    const option = document.createElement("option");
    option.value = user.id;
    option.textContent = `${user.display_name} (${user.user_id})${user.following ? "" : " · blocked"}`;
    return option;
  }

  function selectUser() {
    const value = $("#user").value;
    state.user = value ? Number(value) : null;
    state.platform = selectedChannel().platform;
    state.lastId = 0;
    $("#timeline").replaceChildren();
    $("#line-actions").hidden = state.platform !== "line" || !state.user;
    poll().catch(showError);
  }

  // --- Timeline ---

  async function poll() {
    const user = state.user;
    if (!user) return;
    const data = await api(`api/users/${user}/messages?after=${state.lastId}`);
    if (user !== state.user) return; // another customer was picked meanwhile
    const fresh = data.messages.filter((message) => message.id > state.lastId);
    if (!fresh.length) return;
    $("#timeline").append(...fresh.map(renderBubble));
    state.lastId = fresh[fresh.length - 1].id;
    $("#timeline").lastElementChild.scrollIntoView({ block: "end" });
    const shopSpoke = fresh.some((message) => message.direction === "from_shop");
    if (shopSpoke && data.user.platform === "messenger") post(`api/users/${user}/read`).catch(showError);
  }

  function renderBubble(message) {
    const item = document.createElement("li");
    item.className = `bubble ${message.direction} kind-${message.kind}`;
    item.dataset.testid = "timeline-item";
    item.dataset.direction = message.direction;
    item.dataset.kind = message.kind;
    if (message.image_url) {
      const image = document.createElement("img");
      image.src = message.image_url;
      image.alt = message.kind;
      item.append(image);
    }
    if (message.text) {
      const text = document.createElement("p");
      text.textContent = message.text;
      item.append(text);
    }
    message.buttons.forEach((button) => item.append(renderButton(button)));
    const meta = document.createElement("small");
    const answered = message.webhook_status ? ` · app answered ${message.webhook_status}` : "";
    meta.textContent = new Date(message.created_at).toLocaleString() + answered;
    item.append(meta);
    return item;
  }

  function renderButton(button) {
    const element = document.createElement(button.url ? "a" : "span");
    element.className = "button";
    element.textContent = button.label;
    if (button.url) {
      element.href = button.url;
      element.target = "_blank";
      element.rel = "noopener noreferrer";
    }
    return element;
  }

  // --- Saying things ---

  async function say(fields) {
    if (!state.user) throw new Error("Pick or create a customer first");
    const result = await post(`api/users/${state.user}/say`, fields);
    if (result.status) showStatus(`Delivered; the app answered HTTP ${result.status}`, !(result.status < 300));
    else showStatus(`Not delivered: ${result.error}`, true);
    await poll();
  }

  function onSubmit(selector, handler) {
    $(selector).addEventListener("submit", (event) => {
      event.preventDefault();
      handler(event.target).catch(showError);
    });
  }

  onSubmit("#composer", async () => {
    const input = $("#composer-input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    await say({ text });
  });
  onSubmit("#sticker-form", (form) => say({ sticker: form.elements.sticker.value }));
  onSubmit("#image-form", async (form) => {
    if (!form.elements.image.files.length) throw new Error("Choose an image first");
    await say(new FormData(form));
    form.reset();
  });
  onSubmit("#location-form", (form) => say(new FormData(form)));

  onSubmit("#new-user-form", async (form) => {
    const { platform, key } = selectedChannel();
    const user = await post("api/users", { platform, channel: key, display_name: form.elements.display_name.value });
    form.reset();
    await loadUsers(user.id);
  });
  $("#follow-button").addEventListener("click", () =>
    post(`api/users/${state.user}/follow`).then(() => loadUsers(state.user)).catch(showError));
  $("#unfollow-button").addEventListener("click", () =>
    post(`api/users/${state.user}/unfollow`).then(() => loadUsers(state.user)).catch(showError));

  // --- Faults ---

  function renderFaults(data) {
    $("#fault-list").replaceChildren(...data.faults.map((fault) => {
      const item = document.createElement("li");
      const what = fault.status ? `HTTP ${fault.status}` : "latency only";
      const left = fault.remaining === null ? "until cleared" : `${fault.remaining} left`;
      const extras = [
        fault.latency_ms ? `+${fault.latency_ms} ms` : "",
        fault.retry_after !== null ? `Retry-After ${fault.retry_after}` : "",
        fault.error_rate !== null ? `rate ${fault.error_rate}` : "",
      ].filter(Boolean).join(", ");
      item.textContent = `${fault.platform}/${fault.endpoint || "*"}: ${what}, ${left}${extras ? `, ${extras}` : ""}`;
      return item;
    }));
  }

  function fillEndpoints() {
    const names = ["", ...endpoints[$("#fault-platform").value]];
    $("#fault-endpoint").replaceChildren(...names.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name || "any";
      return option;
    }));
  }

  onSubmit("#fault-form", async (form) => renderFaults(await post("api/faults", new FormData(form))));
  $("#faults-clear").addEventListener("click", () =>
    post("api/faults/clear").then(() => api("api/faults")).then(renderFaults).catch(showError));
  $("#fault-platform").addEventListener("change", fillEndpoints);

  // --- Start ---

  $("#channel").addEventListener("change", () => loadUsers().catch(showError));
  $("#user").addEventListener("change", selectUser);
  fillEndpoints();
  api("api/faults").then(renderFaults).catch(showError);
  loadUsers().catch(showError);
  setInterval(() => poll().catch(showError), 1000);
})();
