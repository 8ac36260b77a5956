// Accounts without a token yet: sign up, confirm the email, ask for a reset and set a new
// password. The API answers the same sentence whether or not an address has an account, and
// the page shows that sentence as it is.
//
// The emails link to this page with the token in the URL's fragment (#confirm-email=... or
// #reset-password=...), which browsers never send to a server: the page moves it into the
// form and removes it from the address bar.

import { call } from "./api.js";
import { guarded, showNotice } from "./ui.js";

const LINKS = { "confirm-email": "confirm-token", "reset-password": "reset-token" };

function byId(id) {
  return document.getElementById(id);
}

function answerSentence(answer, fallback) {
  return (answer && (answer.detail || answer.message)) || fallback;
}

function onSubmit(id, action) {
  byId(id).addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector("button[type=submit]"), () => action(form));
  });
}

// `onConfirmed` runs after a confirmation, to read the account again when someone is signed in.
export function start({ onConfirmed }) {
  onSubmit("sign-up", async (form) => {
    const answer = await call("auth/register/", {
      method: "POST",
      body: {
        first_name: form.first_name.value.trim(),
        last_name: form.last_name.value.trim(),
        email: form.email.value.trim(),
        password: form.password.value,
      },
    });
    form.password.value = "";
    byId("confirm-resend-email").value = form.email.value.trim();
    showNotice(answerSentence(answer, "Check your email for the confirmation token."));
    byId("confirm-token").focus();
  });
  onSubmit("confirm-email", async (form) => {
    const answer = await call("auth/confirm-email/", {
      method: "POST",
      body: { token: form.token.value.trim() },
    });
    form.token.value = "";
    showNotice(answerSentence(answer, "Your email address is confirmed."));
    await onConfirmed();
  });
  onSubmit("confirm-resend", async (form) => {
    const answer = await call("auth/confirm-email/resend/", {
      method: "POST",
      body: { email: form.email.value.trim() },
    });
    showNotice(answerSentence(answer, "If the address needs confirming, a new token is on its way."));
  });
  onSubmit("reset-request", async (form) => {
    const answer = await call("auth/password-reset/", {
      method: "POST",
      body: { email: form.email.value.trim() },
    });
    showNotice(answerSentence(answer, "If the address has an account, a reset token is on its way."));
    byId("reset-token").focus();
  });
  onSubmit("reset-confirm", async (form) => {
    const answer = await call("auth/password-reset/confirm/", {
      method: "POST",
      body: { token: form.token.value.trim(), new_password: form.new_password.value },
    });
    form.token.value = "";
    form.new_password.value = "";
    showNotice(answerSentence(answer, "Your password is set. Sign in with it."));
    byId("login-password").focus();
  });
  takeTokenFromLink();
  // The link opened in a tab that already shows the page changes only the fragment.
  window.addEventListener("hashchange", takeTokenFromLink);
}

function takeTokenFromLink() {
  const match = /^#(confirm-email|reset-password)=(.+)$/.exec(window.location.hash);
  if (!match) {
    return;
  }
  const field = byId(LINKS[match[1]]);
  field.value = decodeURIComponent(match[2]);
  history.replaceState(null, "", window.location.pathname + window.location.search);
  field.focus();
}
