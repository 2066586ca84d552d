// The dashboard (`/`): the native API with its session cookie. No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
// Admin tokens of the meetings this browser created: the API shows them once, and "start as
// host" and "end" need them. Kept in this browser's storage only.
const TOKENS = "convene.adminTokens";

function tokens() {
  try {
    return JSON.parse(localStorage.getItem(TOKENS) || "{}");
  } catch {
    return {};
  }
}

function rememberToken(meetingId, token) {
  const all = tokens();
  all[meetingId] = token;
  localStorage.setItem(TOKENS, JSON.stringify(all));
}

/** A JSON call to the native API with the session cookie; throws the API's error message. */
async function api(method, url, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function notice(text) {
  $("notice").textContent = text;
}

function when(iso) {
  if (iso === null || iso === undefined) return "—";
  const date = typeof iso === "number" ? new Date(iso) : new Date(iso);
  return date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells.map(cell));
  return tr;
}

function button(text, onClick, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function actions(...buttons) {
  const span = document.createElement("span");
  span.className = "buttons";
  span.append(...buttons);
  return span;
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    notice(`${what} copied`);
  } catch {
    notice(`${what}: ${text}`);
  }
}

// ---------- signing in ----------

let me = null;

async function loadMe() {
  try {
    me = await api("GET", "/api/auth/me");
  } catch {
    me = null;
  }
  const signedIn = Boolean(me);
  $("auth").hidden = signedIn;
  $("tabs").hidden = !signedIn;
  $("logout").hidden = !signedIn;
  $("who").textContent = signedIn ? me.email : "";
  document.querySelector('[data-tab="analytics"]').hidden = !(me && me.is_admin);
  document.body.dataset.screen = signedIn ? "dashboard" : "auth";
  if (signedIn) openTab(currentTab);
  else for (const tab of document.querySelectorAll(".tab")) tab.hidden = true;
}

function bindAuth() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/auth/login", { email: $("login-email").value, password: $("login-password").value });
      notice("");
      await loadMe();
    } catch (err) {
      notice(err.message);
    }
  });
  $("register-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { email: $("register-email").value, password: $("register-password").value };
    if ($("register-type").value === "company") {
      body.accountType = "company";
      body.companyName = $("register-company").value;
    }
    try {
      await api("POST", "/api/auth/register", body);
      await api("POST", "/api/auth/login", { email: body.email, password: body.password });
      notice("Account created. Your first API key is under API keys.");
      await loadMe();
    } catch (err) {
      notice(err.message);
    }
  });
  $("forgot").addEventListener("click", () => {
    $("forgot-form").hidden = false;
    $("forgot-email").value = $("login-email").value;
    $("forgot-email").focus();
  });
  $("forgot-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await api("POST", "/api/auth/forgot-password", { email: $("forgot-email").value });
      notice(`${answer.message}. Check your email.`);
      $("forgot-form").hidden = true;
    } catch (err) {
      notice(err.message);
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/auth/logout").catch(() => {});
    await loadMe();
  });
}

// ---------- tabs ----------

let currentTab = "meetings";
const loaders = {};

function openTab(name) {
  currentTab = name;
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === name));
  }
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== name;
  loaders[name]().catch((err) => notice(err.message));
}

// ---------- meetings ----------

loaders.meetings = async () => {
  const [live, scheduled] = await Promise.all([
    api("GET", "/api/meetings"),
    api("GET", "/api/meetings/scheduled/list").catch(() => ({ meetings: [] })),
  ]);
  const seen = new Set();
  const rows = [];
  for (const m of [...live.meetings, ...(scheduled.meetings || [])]) {
    if (seen.has(m.meetingId)) continue;
    seen.add(m.meetingId);
    rows.push(meetingRow(m));
  }
  $("meeting-rows").replaceChildren(...rows);
};

function meetingRow(m) {
  const token = tokens()[m.meetingId];
  const link = new URL(`/join/${m.meetingId}`, location.origin).href;
  const buttons = [button("Copy link", () => copy(link, "Join link"), `Copy the join link of ${m.title}`)];
  if (token) {
    // The admin token goes in the fragment: browsers never send it to a server or a proxy log.
    buttons.push(
      button("Start as host", () => window.open(`/join/${m.meetingId}#admin=${encodeURIComponent(token)}`, "_blank"), `Start ${m.title} as host`),
      button("End", async () => {
        await fetch(`/api/meetings/${m.meetingId}`, { method: "DELETE", headers: { "x-admin-token": token } });
        await loaders.meetings();
      }, `End ${m.title}`),
    );
  }
  const title = document.createElement("a");
  title.href = link;
  title.textContent = m.title;
  return row(title, m.status, String(m.participantCount ?? 0), when(m.scheduledAt || m.createdAt), actions(...buttons));
}

function bindMeetings() {
  $("meeting-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    if ($("meeting-title").value.trim()) body.title = $("meeting-title").value.trim();
    if ($("meeting-when").value) body.scheduledAt = new Date($("meeting-when").value).toISOString();
    try {
      const created = await api("POST", "/api/meetings", body);
      rememberToken(created.meetingId, created.adminToken);
      notice(`Meeting "${created.title}" created`);
      $("meeting-title").value = "";
      $("meeting-when").value = "";
      await loaders.meetings();
    } catch (err) {
      notice(err.message);
    }
  });
}

// ---------- API keys ----------

loaders.keys = async () => {
  const { keys } = await api("GET", "/api/user/keys");
  $("key-rows").replaceChildren(
    ...keys.map((k) =>
      row(k.label || "—", k.key, when(k.created_at), actions(button("Revoke", async () => {
        try {
          await api("DELETE", `/api/user/keys/${k.id}`);
          await loaders.keys();
        } catch (err) {
          notice(err.message);
        }
      }, `Revoke ${k.label || k.key}`))),
    ),
  );
};

function bindKeys() {
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = $("key-label").value.trim() ? { label: $("key-label").value.trim() } : {};
      const created = await api("POST", "/api/user/keys", body);
      const shown = $("new-key");
      shown.replaceChildren(
        document.createTextNode("Your new key — copy it now, it is not shown again: "),
        Object.assign(document.createElement("code"), { textContent: created.key }),
        button("Copy", () => copy(created.key, "API key")),
      );
      shown.hidden = false;
      $("key-label").value = "";
      await loaders.keys();
    } catch (err) {
      notice(err.message);
    }
  });
}

// ---------- history and billing ----------

loaders.history = async () => {
  const { meetings } = await api("GET", "/api/meetings/history");
  $("history-rows").replaceChildren(
    ...meetings.map((m) => row(m.title, when(m.started_at), m.duration_minutes, String(m.peak_participants), m.cost_usd)),
  );
};

loaders.billing = async () => {
  const { balance, transactions } = await api("GET", "/api/billing/history");
  $("balance").textContent = balance;
  $("transaction-rows").replaceChildren(
    ...transactions.map((t) => row(when(t.created_at), t.type, t.description, t.amount_usd)),
  );
};

// ---------- webhooks ----------

loaders.webhooks = async () => {
  const { webhooks } = await api("GET", "/api/webhooks");
  $("webhook-rows").replaceChildren(
    ...webhooks.map((w) =>
      row(w.url, w.events.join(", "), w.disabled ? `disabled: ${w.disabled}` : "active", actions(
        button("Deliveries", () => showDeliveries(w.id), `Deliveries of ${w.url}`),
        button("Remove", async () => {
          await api("DELETE", `/api/webhooks/${w.id}`).catch((err) => notice(err.message));
          $("deliveries").hidden = true;
          await loaders.webhooks();
        }, `Remove ${w.url}`),
      )),
    ),
  );
};

async function showDeliveries(id) {
  const { deliveries } = await api("GET", `/api/webhooks/${id}/deliveries`);
  $("delivery-rows").replaceChildren(
    ...deliveries.map((d) => row(`${d.event} (#${d.seq})`, String(d.number), d.status ? String(d.status) : "—", `${d.latency_ms} ms`, d.error || "")),
  );
  $("deliveries").hidden = false;
}

function bindWebhooks() {
  $("webhook-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const events = [...document.querySelectorAll('input[name="event"]:checked')].map((c) => c.value);
    try {
      const created = await api("POST", "/api/webhooks", { url: $("webhook-url").value, events });
      const shown = $("new-secret");
      shown.replaceChildren(
        document.createTextNode("Signing secret — copy it now, it is not shown again: "),
        Object.assign(document.createElement("code"), { textContent: created.secret }),
      );
      shown.hidden = false;
      $("webhook-url").value = "";
      await loaders.webhooks();
    } catch (err) {
      notice(err.message);
    }
  });
}

// ---------- company ----------

loaders.company = async () => {
  let members = [];
  try {
    ({ members } = await api("GET", "/api/company/members"));
  } catch (err) {
    notice(err.message);
  }
  $("member-rows").replaceChildren(
    ...members.map((m) =>
      row(m.email, m.role, when(m.joined_at), m.role === "owner" ? "" : actions(button("Remove", async () => {
        await api("DELETE", `/api/company/members/${m.id}`).catch((err) => notice(err.message));
        await loaders.company();
      }, `Remove ${m.email}`))),
    ),
  );
};

function bindCompany() {
  $("join-company-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/company/join", { inviteCode: $("invite-code").value.trim() });
      notice("You joined the company");
      await loadMe();
    } catch (err) {
      notice(err.message);
    }
  });
}

// ---------- analytics (administrators) ----------

const SVG = "http://www.w3.org/2000/svg";

function svg(width, height) {
  const root = document.createElementNS(SVG, "svg");
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.setAttribute("width", "100%");
  return root;
}

function shape(parent, name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  parent.append(node);
  return node;
}

function barChart(rows) {
  const width = 460;
  const height = 24 * rows.length + 10;
  const root = svg(width, height);
  const max = Math.max(1, ...rows.map((r) => r.value));
  rows.forEach((r, i) => {
    const y = 5 + i * 24;
    shape(root, "text", { x: 0, y: y + 15, fill: "currentColor", "font-size": 12 }, r.label);
    const w = (r.value / max) * (width - 300);
    shape(root, "rect", { x: 120, y, width: Math.max(w, 1), height: 18, fill: "#3d8bfd", rx: 3 });
    shape(root, "text", { x: 126 + w, y: y + 14, fill: "currentColor", "font-size": 12 }, r.note || String(r.value));
  });
  return root;
}

function heatMap(cells) {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const size = 17;
  const root = svg(40 + 24 * size, 20 + 7 * size);
  const max = Math.max(1, ...cells.map((c) => c.count));
  const counts = new Map(cells.map((c) => [`${c.dow}:${c.hour}`, c.count]));
  days.forEach((day, dow) => {
    shape(root, "text", { x: 0, y: 32 + dow * size, fill: "currentColor", "font-size": 11 }, day);
    for (let hour = 0; hour < 24; hour++) {
      const count = counts.get(`${dow}:${hour}`) || 0;
      const rect = shape(root, "rect", {
        x: 40 + hour * size, y: 20 + dow * size, width: size - 2, height: size - 2, rx: 2,
        fill: count ? `rgba(61, 139, 253, ${0.2 + 0.8 * (count / max)})` : "#232a36",
      });
      shape(rect, "title", {}, `${day} ${hour}:00 UTC — ${count} meeting${count === 1 ? "" : "s"}`);
    }
  });
  for (let hour = 0; hour < 24; hour += 3) {
    shape(root, "text", { x: 40 + hour * size, y: 12, fill: "currentColor", "font-size": 10 }, `${hour}h`);
  }
  return root;
}

loaders.analytics = async () => {
  const [features, peaks, retention, live] = await Promise.all([
    api("GET", "/admin/api/analytics/features"),
    api("GET", "/admin/api/analytics/peak-hours"),
    api("GET", "/admin/api/analytics/retention"),
    api("GET", "/admin/api/analytics/realtime"),
  ]);
  $("chart-features").replaceChildren(
    barChart(features.features.map((f) => ({ label: f.feature.replace("_", " "), value: f.total_uses, note: `${f.total_uses} (${f.unique_users} people)` }))),
  );
  $("chart-peaks").replaceChildren(heatMap(peaks.peakHours));
  $("chart-retention").replaceChildren(
    barChart([...retention.retention].reverse().map((w) => ({ label: w.week, value: w.users, note: `${w.users} active, ${w.retained} returning` }))),
  );
  const facts = [
    ["Active meetings", live.activeMeetings],
    ["People in meetings", live.totalParticipants],
    ["Screens shared", live.activeScreenShares],
    ["Recordings announced", live.activeRecordings],
  ];
  $("live").replaceChildren(
    ...facts.flatMap(([term, value]) => [
      Object.assign(document.createElement("dt"), { textContent: term }),
      Object.assign(document.createElement("dd"), { textContent: String(value) }),
    ]),
  );
};

// ---------- account ----------

loaders.account = async () => {};

function bindAccount() {
  $("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/auth/change-password", {
        currentPassword: $("current-password").value,
        newPassword: $("changed-password").value,
      });
      $("password-form").reset();
      notice("Password changed. Other sessions were signed out.");
    } catch (err) {
      notice(err.message);
    }
  });
}

// ---------- start ----------

function start() {
  bindAuth();
  bindMeetings();
  bindKeys();
  bindWebhooks();
  bindCompany();
  bindAccount();
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => openTab(button.dataset.tab));
  }
  loadMe().then(() => (document.body.dataset.ready = "true"));
}

start();
