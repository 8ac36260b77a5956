// The booking page: sign in, then three views (book a court, my bookings, and for a venue's
// staff the day view). Each view is a module; this one switches between them.

import * as accountForms from "./account.js";
import { call, setToken, token } from "./api.js";
import * as booking from "./booking.js";
import * as dayView from "./day-view.js";
import * as myBookings from "./my-bookings.js";
import { clearMessages, guarded, showError } from "./ui.js";

const SIGNED_IN_BY_PASSWORD = "booking-page-password-login";
const VIEWS = {
  book: () => booking.enter(),
  mine: () => myBookings.enter({ onPay: payFromList }),
  "board-view": () => dayView.enter(account),
};

let account = null;

function byId(id) {
  return document.getElementById(id);
}

function show(view) {
  clearMessages();
  for (const name of Object.keys(VIEWS)) {
    byId(name).hidden = name !== view;
  }
  for (const tab of document.querySelectorAll("#views button")) {
    if (tab.dataset.view === view) {
      tab.setAttribute("aria-current", "page");
    } else {
      tab.removeAttribute("aria-current");
    }
  }
  return VIEWS[view]().catch(showError);
}

function payFromList(chosen) {
  show("book").then(() => booking.resume(chosen));
}

async function signIn(value) {
  setToken(value);
  try {
    account = await call("me/");
  } catch (error) {
    setToken(null);
    throw error;
  }
  const name = [account.first_name, account.last_name].filter(Boolean).join(" ");
  byId("who-name").textContent = name ? `${name} (${account.email})` : account.email;
  byId("who").hidden = false;
  byId("views").hidden = false;
  byId("login").hidden = true;
  showConfirmation();
  // Staff see their venues; an admin (the operator API at every venue) sees them all.
  byId("day-view-tab").hidden = !(account.staff.length || account.is_admin);
  await show("book");
}

// The confirmation form: on the sign-in page, and for a signed-in person whose address is not
// confirmed yet (they may look around, not book).
function showConfirmation() {
  byId("confirm").hidden = Boolean(account && account.email_confirmed);
  if (account) {
    byId("confirm-resend-email").value = account.email;
  }
}

async function afterConfirmation() {
  if (account) {
    account = await call("me/");
    showConfirmation();
  }
}

async function signOut() {
  if (sessionStorage.getItem(SIGNED_IN_BY_PASSWORD)) {
    // A token this page obtained is revoked; a token pasted in is only forgotten here.
    await call("auth/logout/", { method: "POST" }).catch(() => undefined);
  }
  sessionStorage.removeItem(SIGNED_IN_BY_PASSWORD);
  setToken(null);
  account = null;
  booking.reset();
  byId("who").hidden = true;
  byId("views").hidden = true;
  for (const name of Object.keys(VIEWS)) {
    byId(name).hidden = true;
  }
  byId("login").hidden = false;
  showConfirmation();
  clearMessages();
}

function start() {
  byId("password-login").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector("button"), async () => {
      const answer = await call("api-token-auth/", {
        method: "POST",
        body: { username: form.email.value.trim(), password: form.password.value },
      });
      form.password.value = "";
      sessionStorage.setItem(SIGNED_IN_BY_PASSWORD, "1");
      await signIn(answer.token);
    });
  });
  byId("token-login").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    guarded(form.querySelector("button"), async () => {
      sessionStorage.removeItem(SIGNED_IN_BY_PASSWORD);
      await signIn(form.token.value.trim());
      form.token.value = "";
    });
  });
  byId("sign-out").addEventListener("click", () => signOut());
  for (const tab of document.querySelectorAll("#views button")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
  }
  accountForms.start({ onConfirmed: afterConfirmation });
  booking.start();
  myBookings.start();
  dayView.start();
  const saved = token();
  if (saved) {
    signIn(saved).catch(showError);
  }
}

start();
