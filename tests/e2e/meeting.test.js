// The meeting room (/join/:meetingId) in a real browser: Debian's chromium driven by
// playwright-core against the real Convene server (started here from $CONVENE_BIN on a free
// port with a fresh data directory), with Chromium's fake camera and microphone. Two people get
// connected peer connections decoding each other's video; chat goes round; the waiting room
// admits; a locked meeting shows its screen; the host removes a guest. Screenshots go to
// target/e2e/.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { start, api, newPage, shots } = require("./harness");

let server;
let base;
let browser;
let meeting;

before(async () => {
  server = await start();
  ({ base, browser } = server);
  const registered = await api(base, "POST", "/api/auth/register", {
    body: { email: "e2e@example.com", password: "secret123" },
  });
  assert.equal(registered.status, 201);
  const created = await api(base, "POST", "/api/meetings", {
    key: registered.body.apiKey,
    body: { title: "Browser check" },
  });
  assert.equal(created.status, 201);
  meeting = created.body;
});

after(async () => {
  if (server) await server.stop();
});

/** A person in their own browser context, on the join page, joined as `name`. */
async function joinAs(name, { host = false, expect = "room" } = {}) {
  const page = await newPage(browser, name);
  const fragment = host ? `#admin=${encodeURIComponent(meeting.adminToken)}` : "";
  await page.goto(`${base}/join/${meeting.meetingId}${fragment}`);
  await page.waitForSelector("body[data-ready=true]");
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
  await page.waitForSelector(`body[data-screen="${expect}"]`, { timeout: 15000 });
  return page;
}

/** framesDecoded of the inbound video of every peer connection on the page. */
function framesDecoded(page) {
  return page.evaluate(async () => {
    const counts = [];
    for (const { pc } of window.convene.peers().values()) {
      const stats = await pc.getStats();
      let frames = 0;
      stats.forEach((report) => {
        if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
      });
      counts.push({ state: pc.connectionState, frames });
    }
    return counts;
  });
}

async function untilDecoding(page) {
  for (let i = 0; i < 100; i++) {
    const counts = await framesDecoded(page);
    if (counts.length > 0 && counts.every((c) => c.state === "connected" && c.frames > 0)) return counts;
    await page.waitForTimeout(200);
  }
  throw new Error(`no decoded video: ${JSON.stringify(await framesDecoded(page))}`);
}

let host;
let guest;

test("two participants see and hear each other over a WebRTC mesh", async () => {
  host = await joinAs("Ada", { host: true });
  guest = await joinAs("Bob");
  const [hostSide] = await untilDecoding(host);
  const [guestSide] = await untilDecoding(guest);
  assert.ok(hostSide.frames > 0 && guestSide.frames > 0);
  assert.equal(await host.locator(".tile").count(), 2);
  assert.equal(await guest.locator(".tile").count(), 2);
  await host.screenshot({ path: path.join(shots, "join-two-tiles.png") });
});

test("a chat message goes round", async () => {
  await guest.getByLabel("Message").fill("hello from Bob");
  await guest.getByRole("button", { name: "Send" }).click();
  await host.locator("#chat-log li", { hasText: "hello from Bob" }).waitFor();
  await guest.locator("#chat-log li", { hasText: "hello from Bob" }).waitFor();
});

test("the waiting room lets someone in when the host admits them", async () => {
  await host.getByRole("button", { name: "Waiting room" }).click();
  await host.waitForSelector('#waiting-toggle[aria-pressed="true"]');
  const carol = await joinAs("Carol", { expect: "waiting" });
  await host.getByRole("button", { name: "Admit Carol" }).click();
  await carol.waitForSelector('body[data-screen="room"]');
  await host.locator(".tile", { hasText: "Carol" }).waitFor();
  await host.getByRole("button", { name: "Waiting room" }).click();
  await host.waitForSelector('#waiting-toggle[aria-pressed="false"]');
  await carol.getByRole("button", { name: "Leave" }).click();
  await host.locator(".tile", { hasText: "Carol" }).waitFor({ state: "detached" });
});

test("a locked meeting shows its screen to a newcomer", async () => {
  await host.getByRole("button", { name: "Lock meeting" }).click();
  await host.waitForSelector('#lock[aria-pressed="true"]');
  const dave = await joinAs("Dave", { expect: "meeting locked" });
  assert.match(await dave.locator("#message-text").innerText(), /locked/);
  await dave.screenshot({ path: path.join(shots, "join-locked.png") });
  await host.getByRole("button", { name: "Unlock meeting" }).click();
});

test("the host removes a guest and the guest's page says so", async () => {
  await host.getByRole("button", { name: "Remove Bob" }).click();
  await guest.waitForSelector('body[data-screen="removed from the meeting"]');
  await host.locator(".tile", { hasText: "Bob" }).waitFor({ state: "detached" });
});
