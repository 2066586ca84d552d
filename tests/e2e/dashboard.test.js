// The dashboard (/) in a real browser against the real server: someone registers, creates an
// API key, creates a meeting and opens it as its host; an administrator sees the analytics as
// charts. Screenshots of both go to target/e2e/.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { start, newPage, shots, admin } = require("./harness");

let server;

before(async () => {
  server = await start();
});

after(async () => {
  if (server) await server.stop();
});

test("register, create a key, create a meeting, open it as host", async () => {
  const { base, browser } = server;
  const page = await newPage(server.browser, "owner");
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-screen="auth"]');
  await page.getByLabel("Email", { exact: true }).nth(1).fill("owner@example.com");
  await page.getByLabel("Password (8 characters or more)").fill("secret123");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForSelector('body[data-screen="dashboard"]');
  assert.equal(await page.locator("#who").innerText(), "owner@example.com");

  await page.getByRole("button", { name: "API keys" }).click();
  await page.getByLabel("Label").fill("ci");
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = await page.locator("#new-key code").innerText();
  assert.match(shown, /^mk_[A-Za-z0-9]{20,}$/);
  await page.locator("#key-rows tr", { hasText: "ci" }).waitFor();

  await page.getByRole("button", { name: "Meetings" }).click();
  await page.getByLabel("Title").fill("Planning");
  await page.getByRole("button", { name: "Create meeting" }).click();
  const row = page.locator("#meeting-rows tr", { hasText: "Planning" });
  await row.waitFor();
  assert.match(await row.innerText(), /active/);
  await page.screenshot({ path: path.join(shots, "dashboard.png") });

  // "Start as host" opens the room with the admin token in the fragment, not the query.
  const [room] = await Promise.all([
    page.context().waitForEvent("page"),
    page.getByRole("button", { name: "Start Planning as host" }).click(),
  ]);
  await room.waitForSelector("body[data-ready=true]");
  const url = new URL(room.url());
  assert.equal(url.search, "");
  assert.match(url.hash, /^#admin=[0-9a-f]{64}$/);
  await room.getByLabel("Your name").fill("Owner");
  await room.getByRole("button", { name: "Join" }).click();
  await room.waitForSelector('body[data-screen="room"]');
  assert.equal(await room.locator("#host-panel").isVisible(), true);
  assert.equal(await room.locator("#room-title").innerText(), "Planning");
  void browser;
});

test("an administrator sees the analytics as charts", async () => {
  const page = await newPage(server.browser, "admin");
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-screen="auth"]');
  await page.getByLabel("Email", { exact: true }).first().fill(admin.email);
  await page.getByLabel("Password", { exact: true }).fill(admin.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForSelector('body[data-screen="dashboard"]');
  await page.getByRole("button", { name: "Analytics" }).click();
  await page.locator("#chart-features svg rect").first().waitFor();
  // One bar per feature, a 7 × 24 heat map, one bar per week.
  assert.equal(await page.locator("#chart-features svg rect").count(), 6);
  assert.equal(await page.locator("#chart-peaks svg rect").count(), 7 * 24);
  assert.equal(await page.locator("#chart-retention svg rect").count(), 12);
  // The meeting the first test started is live.
  assert.match(await page.locator("#live").innerText(), /Active meetings\s+1/);
  await page.screenshot({ path: path.join(shots, "analytics.png"), fullPage: true });
});
