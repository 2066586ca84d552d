// The npm socket.io-client with its default options against Convene's Socket.IO layer, served
// alone by examples/socketio_conformance.rs on 127.0.0.1:3000 (started here from
// $CONVENE_CONFORMANCE_BIN). Run by .ci/run: `npm ci && npm test` in this folder.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const { io } = require("socket.io-client");

const URL = "http://127.0.0.1:3000";
let server;

before(async () => {
  const binary = process.env.CONVENE_CONFORMANCE_BIN;
  assert.ok(binary, "set CONVENE_CONFORMANCE_BIN to the socketio_conformance example binary");
  server = spawn(binary, [], { stdio: "inherit" });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${URL}/socket.io/?EIO=4&transport=polling`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("the conformance server did not start");
});

after(() => server.kill());

function connect(options = {}, namespace = "") {
  const socket = io(URL + namespace, { forceNew: true, reconnection: false, ...options });
  const auth = new Promise((resolve) => socket.once("auth", resolve));
  const connected = new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, auth, connected };
}

async function roundTrips(socket) {
  const back = new Promise((resolve) => socket.once("message-back", (...args) => resolve(args)));
  socket.emit("message", 1, "two", { three: [3] }, Buffer.from([1, 2, 3]));
  const args = await back;
  assert.deepEqual(args.slice(0, 3), [1, "two", { three: [3] }]);
  assert.deepEqual([...args[3]], [1, 2, 3], "binary attachments come back as binary");
  const acked = await socket.timeout(2000).emitWithAck("message-with-ack", "x", { y: 2 });
  assert.equal(acked, "x");
  // The server asks for an acknowledgement; the client's answer comes back as an event.
  const asked = [];
  const answered = new Promise((resolve) => {
    const listener = (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      asked.push(args);
      if (ack) ack("answer", ...args);
      else {
        socket.off("emit-with-ack", listener);
        resolve(args);
      }
    };
    socket.on("emit-with-ack", listener);
  });
  socket.emit("emit-with-ack", 7, Buffer.from([9]));
  const answer = await answered;
  assert.equal(answer[0], "answer");
  assert.equal(answer[1], 7);
  assert.deepEqual([...answer[2]], [9], "a binary answer stays binary");
  assert.equal(asked.length, 2, "asked once with an ack, then told the answer");
}

test("default options: long-polling first, then upgraded to WebSocket", async () => {
  const { socket, auth, connected } = connect();
  await connected;
  assert.deepEqual(await auth, {});
  await roundTrips(socket);
  await new Promise((resolve) => {
    if (socket.io.engine.transport.name === "websocket") return resolve();
    socket.io.engine.once("upgrade", resolve);
  });
  // Several heartbeats (pingInterval 300 ms) pass without the connection dropping.
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(socket.connected);
  await roundTrips(socket);
  socket.close();
});

test("WebSocket only", async () => {
  const { socket, auth, connected } = connect({ transports: ["websocket"] });
  await connected;
  assert.deepEqual(await auth, {});
  await roundTrips(socket);
  socket.close();
});

test("long-polling only", async () => {
  const { socket, connected } = connect({ transports: ["polling"] });
  await connected;
  await roundTrips(socket);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(socket.connected, "polling survives the heartbeat");
  socket.close();
});

test("a namespace with an auth payload", async () => {
  const { socket, auth, connected } = connect({ auth: { token: "123" } }, "/custom");
  await connected;
  assert.deepEqual(await auth, { token: "123" });
  await roundTrips(socket);
  socket.close();
});

test("an unknown namespace is refused", async () => {
  const { socket, connected } = connect({}, "/nope");
  await assert.rejects(connected, /Invalid namespace/);
  socket.close();
});
