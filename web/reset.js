// The password reset page (/reset-password?token=…), where the reset email's link leads: the
// token is checked on load (GET /api/auth/reset-password), then a new password is set with it
// (POST, once). A token that has expired, was used or is unknown gets one clear screen.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token") || "";

function show(screen) {
  for (const id of ["checking", "reset-form", "done", "invalid"]) $(id).hidden = id !== screen;
  document.body.dataset.screen = screen;
}

async function check() {
  if (!token) return show("invalid");
  const response = await fetch(`/api/auth/reset-password?token=${encodeURIComponent(token)}`);
  show(response.ok ? "reset-form" : "invalid");
  if (response.ok) $("new-password").focus();
}

$("reset-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = $("new-password").value;
  if (password !== $("confirm-password").value) {
    $("reset-error").textContent = "The two passwords are not the same.";
    return;
  }
  const response = await fetch("/api/auth/reset-password", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, password }),
  });
  if (response.ok) return show("done");
  const body = await response.json().catch(() => ({}));
  if (/token/.test(body.error || "")) return show("invalid");
  $("reset-error").textContent = body.error || `The password could not be set (${response.status}).`;
});

check().catch(() => show("invalid"));
