// The real server and a real browser for the browser tests: Convene from $CONVENE_BIN on a free
// port with a fresh data directory (an administrator configured, otherwise the defaults: the
// dashboard at 127.0.0.1:<port> is not the default app_url, so its cookie writes pass as
// same-host requests), and Debian's chromium through playwright-core with a fake camera and
// microphone.
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const net = require("node:net");
const { chromium } = require("playwright-core");

const shots = path.resolve(__dirname, "../../target/e2e");
const admin = { email: "admin@example.com", password: "admin-password" };

function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function start() {
  const binary = process.env.CONVENE_BIN;
  assert.ok(binary, "set CONVENE_BIN to the convene binary");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "convene-e2e-"));
  const server = spawn(binary, [], {
    cwd: dataDir,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      CONVENE_STORAGE_PATH: path.join(dataDir, "store"),
      CONVENE_SERVER_PORT: String(port),
      CONVENE_RATE_LIMITS_ENABLED: "false",
      CONVENE_AUTH_ADMIN_EMAIL: admin.email,
      CONVENE_AUTH_ADMIN_PASSWORD: admin.password,
      RUST_LOG: "warn",
    },
  });
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    try {
      up = (await fetch(`${base}/healthz`)).ok;
    } catch {}
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(up, "convene did not start");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      // Loopback ICE: host candidates as IP addresses, not mDNS names nobody resolves here.
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  fs.mkdirSync(shots, { recursive: true });
  const stop = async () => {
    await browser.close();
    server.kill("SIGINT");
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const outbox = path.join(dataDir, "store", "outbox");
  return { base, browser, stop, outbox };
}

/** Undoes quoted-printable (soft line breaks, `=XX` escapes) as a mail client does. */
function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The outbox's messages (oldest first, decoded), once there are at least `count`. */
async function mails(outbox, count) {
  for (let i = 0; i < 200; i++) {
    const names = fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((n) => n.endsWith(".eml")).sort() : [];
    if (names.length >= count) {
      return names.map((n) => decodeQuotedPrintable(fs.readFileSync(path.join(outbox, n), "utf8")));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} messages in ${outbox}`);
}

/** A JSON call to the API with an API key. */
async function api(base, method, url, { key, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (key) headers["x-api-key"] = key;
  const response = await fetch(`${base}${url}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** A fresh browser context's page, its errors echoed. */
async function newPage(browser, who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${who}] page error: ${err.message}`));
  return page;
}

module.exports = { start, api, newPage, shots, admin, mails };
