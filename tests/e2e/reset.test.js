// Password reset in a real browser, as a person does it: "Forgot password?" on the sign-in
// form, the reset email read from the outbox as a mail client reads it (quoted-printable), its
// link opened in Chromium, a new password set, and a sign-in with it. The old password and a
// second use of the link fail. Then the account page changes the password once more.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { start, api, newPage, shots, mails } = require("./harness");

let server;

before(async () => {
  server = await start();
});

after(async () => {
  if (server) await server.stop();
});

async function signIn(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

test("forgot password, the emailed link, a new password, and a change on the account page", async () => {
  const { base, browser, outbox } = server;
  const email = "forgetful@example.com";
  const registered = await api(base, "POST", "/api/auth/register", { body: { email, password: "old-password" } });
  assert.equal(registered.status, 201);

  const page = await newPage(browser, "forgetful");
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-screen="auth"]');
  await page.getByRole("button", { name: "Forgot password?" }).click();
  await page.getByLabel("Your account's email").fill(email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await page.locator("#notice", { hasText: "reset link has been sent" }).waitFor();

  const [mail] = await mails(outbox, 1);
  const link = mail.match(/https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_-]+/);
  assert.ok(link, `a reset link in:\n${mail}`);
  // The link names app_url (the default, localhost:3000); this server listens elsewhere.
  const url = new URL(link[0]);
  const resetUrl = `${base}${url.pathname}${url.search}`;

  await page.goto(resetUrl);
  await page.waitForSelector('body[data-screen="reset-form"]');
  await page.getByLabel("New password (8 characters or more)").fill("new-password");
  await page.getByLabel("New password, again").fill("new-password");
  await page.screenshot({ path: path.join(shots, "reset.png") });
  await page.getByRole("button", { name: "Set new password" }).click();
  await page.waitForSelector('body[data-screen="done"]');

  // The new password signs in; the old one does not.
  await signIn(page, base, email, "new-password");
  await page.waitForSelector('body[data-screen="dashboard"]');
  const old = await api(base, "POST", "/api/auth/login", { body: { email, password: "old-password" } });
  assert.equal(old.status, 401);

  // The link works once.
  const again = await newPage(browser, "second use");
  await again.goto(resetUrl);
  await again.waitForSelector('body[data-screen="invalid"]');
  assert.match(await again.locator("#invalid").innerText(), /cannot be used/);
  // So does a link that was never sent.
  await again.goto(`${base}/reset-password?token=not-a-token`);
  await again.waitForSelector('body[data-screen="invalid"]');

  // The account page changes the password with the current one.
  await page.getByRole("button", { name: "Account" }).click();
  await page.getByLabel("Current password").fill("new-password");
  await page.getByLabel("New password, at least 8 characters").fill("newest-password");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#notice", { hasText: "Password changed" }).waitFor();
  const newest = await api(base, "POST", "/api/auth/login", { body: { email, password: "newest-password" } });
  assert.equal(newest.status, 200);
});
