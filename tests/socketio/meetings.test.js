// Meetings over Socket.IO with the npm socket.io-client against the real Convene server
// (started here from $CONVENE_BIN on a free port, with a fresh data directory): joining as host
// and as guest, WebRTC signaling relayed with `from` set by the server, chat, media state, and
// the host's REST controls arriving as socket events. Once with the default options (polling,
// then upgrade) and once WebSocket only.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const net = require("node:net");
const { io } = require("socket.io-client");

let server;
let base;
let dataDir;

function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

before(async () => {
  const binary = process.env.CONVENE_BIN;
  assert.ok(binary, "set CONVENE_BIN to the convene binary");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "convene-socketio-"));
  server = spawn(binary, [], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      CONVENE_STORAGE_PATH: dataDir,
      CONVENE_SERVER_PORT: String(port),
      CONVENE_RATE_LIMITS_ENABLED: "false",
      RUST_LOG: "warn",
    },
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("convene did not start");
});

after(() => {
  server.kill("SIGINT");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function api(method, url, { key, adminToken, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (key) headers["x-api-key"] = key;
  if (adminToken) headers["x-admin-token"] = adminToken;
  const response = await fetch(base + url, { method, headers, body: body && JSON.stringify(body) });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Resolves with the next `event` the socket receives. */
function next(socket, event, timeout = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeout} ms`)), timeout);
    socket.once(event, (data) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

async function joined(options, join) {
  const socket = io(base, { forceNew: true, reconnection: false, ...options });
  await next(socket, "connect");
  const answer = next(socket, "joined");
  socket.emit("join-meeting", join);
  return { socket, joined: await answer };
}

let account = 0;

for (const [label, options] of [
  ["default options (polling, then upgrade)", {}],
  ["websocket only", { transports: ["websocket"] }],
]) {
  test(`a meeting over Socket.IO, ${label}`, async () => {
    account += 1;
    const { apiKey: key } = await api("POST", "/api/auth/register", {
      body: { email: `host${account}@example.com`, password: "secret-password" },
    });
    const { meetingId, adminToken } = await api("POST", "/api/meetings", {
      key,
      body: { title: "Standup" },
    });

    const host = await joined(options, { meetingId, name: "Ada", isAdmin: true, adminToken });
    assert.equal(host.joined.isAdmin, true);
    assert.equal(host.joined.title, "Standup");
    assert.deepEqual(host.joined.participants, []);
    assert.equal(host.joined.settings.maxParticipants, 50);

    const announced = next(host.socket, "participant:joined");
    const guest = await joined(options, { meetingId, name: "Bob" });
    assert.equal(guest.joined.isAdmin, false);
    assert.deepEqual(guest.joined.participants.map((p) => [p.name, p.isAdmin]), [["Ada", true]]);
    const bob = await announced;
    assert.equal(bob.name, "Bob");
    const adaId = host.joined.participantId;
    const bobId = guest.joined.participantId;

    // Signaling is relayed to one participant, with `from` set by the server.
    const offer = next(guest.socket, "signal:offer");
    host.socket.emit("signal:offer", { to: bobId, offer: { type: "offer", sdp: "v=0" }, from: "forged" });
    assert.deepEqual(await offer, { from: adaId, offer: { type: "offer", sdp: "v=0" } });
    const answer = next(host.socket, "signal:answer");
    guest.socket.emit("signal:answer", { to: adaId, answer: { type: "answer", sdp: "v=0" } });
    assert.equal((await answer).from, bobId);

    // Chat reaches everyone, sender included, with who and when.
    const chatAtHost = next(host.socket, "chat:message");
    const chatAtGuest = next(guest.socket, "chat:message");
    guest.socket.emit("chat:message", { text: "hello" });
    const chat = await chatAtHost;
    assert.deepEqual([chat.from, chat.name, chat.text], [bobId, "Bob", "hello"]);
    assert.equal(typeof chat.timestamp, "number");
    await chatAtGuest;

    // Media state is broadcast; a too-long chat is refused with error.
    const updated = next(host.socket, "participant:updated");
    guest.socket.emit("media:toggle-video", { isVideoOff: true });
    assert.deepEqual(await updated, { participantId: bobId, isVideoOff: true });
    const refused = next(guest.socket, "error");
    guest.socket.emit("chat:message", { text: "x".repeat(2001) });
    assert.match((await refused).message, /at most 2000/);

    // REST settings and controls arrive as socket events.
    const settings = next(guest.socket, "meeting:settings-updated");
    await api("PATCH", `/api/meetings/${meetingId}/settings`, { key, adminToken, body: { muteOnJoin: true } });
    assert.equal((await settings).muteOnJoin, true);

    const kicked = next(guest.socket, "admin:kick");
    const left = next(host.socket, "participant:left");
    const gone = next(guest.socket, "disconnect");
    await api("POST", `/api/meetings/${meetingId}/participants/${bobId}/kick`, {
      key,
      adminToken,
      body: { reason: "off topic" },
    });
    assert.deepEqual(await kicked, { reason: "off topic" });
    assert.deepEqual(await left, { participantId: bobId, name: "Bob" });
    await gone;

    // Ending the meeting tells everyone and closes their connections.
    const ended = next(host.socket, "meeting:ended");
    await api("DELETE", `/api/meetings/${meetingId}`, { key, adminToken });
    assert.deepEqual(await ended, { reason: "ended_by_host" });
    host.socket.close();
  });
}

test("joining is refused with error for an unknown, locked or ended meeting", async () => {
  const socket = io(base, { forceNew: true, reconnection: false });
  await next(socket, "connect");
  const unknown = next(socket, "error");
  socket.emit("join-meeting", { meetingId: "abc-defg-hij", name: "Eve" });
  assert.equal((await unknown).message, "meeting not found");

  const { apiKey: key } = await api("POST", "/api/auth/register", {
    body: { email: "locks@example.com", password: "secret-password" },
  });
  const { meetingId, adminToken } = await api("POST", "/api/meetings", { key, body: {} });
  await api("POST", `/api/meetings/${meetingId}/lock`, { key, adminToken });
  const locked = next(socket, "error");
  socket.emit("join-meeting", { meetingId, name: "Eve" });
  assert.equal((await locked).message, "meeting is locked");

  const unknownEvent = next(socket, "error");
  socket.emit("dance", {});
  assert.match((await unknownEvent).message, /join a meeting first|unknown event/);
  socket.close();
});

test("the waiting room admits one participant and denies another; a late host sees the queue", async () => {
  const { apiKey: key } = await api("POST", "/api/auth/register", {
    body: { email: "waiting@example.com", password: "secret-password" },
  });
  const { meetingId, adminToken } = await api("POST", "/api/meetings", { key, body: {} });
  await api("PATCH", `/api/meetings/${meetingId}/settings`, { key, adminToken, body: { waitingRoom: true } });

  // Someone waits before any host is there.
  const early = io(base, { forceNew: true, reconnection: false });
  await next(early, "connect");
  const earlyWaits = next(early, "waiting-room:waiting");
  early.emit("waiting-room:join", { meetingId, name: "Early" });
  await earlyWaits;

  const hostSocket = io(base, { forceNew: true, reconnection: false });
  await next(hostSocket, "connect");
  const queueShown = next(hostSocket, "waiting-room:participant-waiting");
  const hostJoined = next(hostSocket, "joined");
  hostSocket.emit("join-meeting", { meetingId, name: "Host", isAdmin: true, adminToken });
  await hostJoined;
  assert.deepEqual(await queueShown, { socketId: early.id, name: "Early", count: 1 });

  // join-meeting with the waiting room on queues too.
  const late = io(base, { forceNew: true, reconnection: false });
  await next(late, "connect");
  const lateWaits = next(late, "waiting-room:waiting");
  const hostHears = next(hostSocket, "waiting-room:participant-waiting");
  late.emit("join-meeting", { meetingId, name: "Late" });
  await lateWaits;
  assert.deepEqual(await hostHears, { socketId: late.id, name: "Late", count: 2 });

  const admitted = next(early, "waiting-room:admitted");
  hostSocket.emit("waiting-room:admit", { meetingId, socketId: early.id });
  await admitted;
  const earlyJoined = next(early, "joined");
  early.emit("join-meeting", { meetingId, name: "Early" });
  assert.deepEqual((await earlyJoined).participants.map((p) => p.name), ["Host"]);

  const denied = next(late, "waiting-room:denied");
  hostSocket.emit("waiting-room:deny", { meetingId, socketId: late.id });
  assert.ok((await denied).message);

  // Only a host decides.
  const refused = next(early, "error");
  early.emit("waiting-room:admit", { meetingId, socketId: late.id });
  assert.equal((await refused).message, "only the host can do that");

  for (const s of [early, late, hostSocket]) s.close();
});
