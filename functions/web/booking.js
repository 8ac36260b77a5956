// "Book a court": a venue, a court and a day; the day's grid; a start, a duration and the
// price; the booking and its hold's countdown; paying with Stripe.js; "paid" once the
// webhook has arrived.

import { all, call, serverNow } from "./api.js";
import {
  coveredSlots,
  daySlots,
  durations,
  isFree,
  longDay,
  money,
  totalCents,
  venueDate,
  wallTime,
} from "./slots.js";
import { clearMessages, element, guarded, option, showError, showNotice } from "./ui.js";

const STATE_TEXT = {
  free: "Free",
  peak: "Peak",
  booked: "Booked",
  mine: "Yours",
  closed: "Closed",
};
// How long the page waits for the webhook to mark a payment paid, and how often it looks.
const PAID_WAIT_MS = 60 * 1000;
const PAID_POLL_MS = 1000;

// What a signed-out page starts from.
const EMPTY = {
  venues: [],
  courts: [],
  availability: null,
  slots: [],
  chosen: null,
  booking: null,
  stripe: null,
  elements: null,
};

const state = { dayRequests: 0, countdown: null, ...EMPTY };

function byId(id) {
  return document.getElementById(id);
}

function venue() {
  return state.venues.find((candidate) => String(candidate.id) === byId("venue").value);
}

function court() {
  return state.courts.find((candidate) => String(candidate.id) === byId("court").value);
}

export function start() {
  byId("venue").addEventListener("change", () => guarded(null, () => chooseVenue()));
  byId("court").addEventListener("change", () => guarded(null, () => loadDay()));
  byId("day").addEventListener("change", () => guarded(null, () => loadDay()));
  byId("choose").addEventListener("submit", (event) => event.preventDefault());
  byId("duration").addEventListener("change", () => showPrice());
  byId("booking-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(byId("book-button"), () => book());
  });
  byId("pay-button").addEventListener("click", () => guarded(byId("pay-button"), () => startPayment()));
  byId("payment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(byId("confirm-payment"), () => confirmPayment());
  });
}

export async function enter() {
  if (!state.venues.length) {
    state.venues = await all("venues/", { is_active: "true" });
    byId("venue").replaceChildren(
      ...state.venues.map((item, index) => option(item.id, `${item.name} (${item.city})`, index === 0)),
    );
    await chooseVenue();
  } else {
    await loadDay();
  }
}

export function reset() {
  stopCountdown();
  Object.assign(state, EMPTY);
  byId("slots").replaceChildren();
  byId("booking-form").hidden = true;
  byId("hold").hidden = true;
}

async function chooseVenue() {
  const chosen = venue();
  if (!chosen) {
    return;
  }
  state.courts = await all("resources/", { venue: chosen.id, is_active: "true", is_bookable: "true" });
  byId("court").replaceChildren(
    ...state.courts.map((item, index) => option(item.id, `${item.name} (${item.activity_name})`, index === 0)),
  );
  byId("day").value = venueDate(serverNow(), chosen.timezone);
  await loadDay();
}

async function loadDay() {
  const chosenCourt = court();
  const day = byId("day").value;
  state.chosen = null;
  byId("booking-form").hidden = true;
  if (!chosenCourt || !day) {
    byId("slots").replaceChildren();
    return;
  }
  const asked = ++state.dayRequests;
  const availability = await call(`resources/${chosenCourt.id}/availability/`, {
    query: { start_date: day, end_date: day },
  });
  if (asked !== state.dayRequests) {
    return; // another court or day was chosen meanwhile: its answer is the one to show
  }
  state.availability = availability;
  state.slots = daySlots(availability, day, chosenCourt.base_price);
  // A slot chosen while this answer was on its way was one of the grid drawn before: choose
  // the same time on the new grid if it is still free, or start again.
  const picked = state.chosen;
  state.chosen = picked ? (state.slots.find((slot) => slot.start === picked.start && isFree(slot)) ?? null) : null;
  byId("booking-form").hidden = state.chosen === null;
  byId("day-caption").textContent = state.slots.length
    ? `${chosenCourt.name}, ${longDay(day)}. Times are the venue's (${availability.timezone}).`
    : `${chosenCourt.name} is closed on ${longDay(day)}.`;
  renderSlots();
  if (state.chosen) {
    showPrice();
  }
}

function slotLabel(slot) {
  const price = slot.price === null ? "" : `, ${money(slot.price, slot.currency)} per hour`;
  const text = {
    free: `free${price}`,
    peak: `free, peak price${price}`,
    booked: "booked",
    mine: "your booking",
    closed: slot.reason || "closed",
  }[slot.state];
  return `${slot.label} ${text}`;
}

function slotStateText(slot) {
  if (slot.state === "peak") {
    return money(slot.price, "").trim();
  }
  return slot.state === "closed" && slot.reason === "not bookable" ? "Not bookable" : STATE_TEXT[slot.state];
}

function renderSlots() {
  const items = state.slots.map((slot) => {
    const button = element(
      "button",
      {
        type: "button",
        className: `slot ${slot.state}`,
        "aria-label": slotLabel(slot),
        "aria-pressed": state.chosen === slot ? "true" : "false",
        disabled: !isFree(slot),
        dataset: { start: slot.label, state: slot.state },
      },
      element("span", { className: "time" }, slot.label),
      element(
        "span",
        { className: "state" },
        slotStateText(slot),
      ),
    );
    button.addEventListener("click", () => choose(slot));
    return element("li", {}, button);
  });
  byId("slots").replaceChildren(...items);
}

function choose(slot) {
  clearMessages();
  state.chosen = slot;
  for (const button of byId("slots").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", button.dataset.start === slot.label ? "true" : "false");
  }
  const chosenCourt = court();
  byId("chosen-start").textContent = `${slot.label} on ${longDay(byId("day").value)}`;
  const options = durations(state.availability).map((minutes) => {
    const covered = coveredSlots(state.slots, slot, minutes);
    const free = covered !== null && covered.every(isFree);
    const node = option(minutes, `${minutes} minutes${free ? "" : " (not free)"}`);
    node.disabled = !free;
    return node;
  });
  byId("duration").replaceChildren(...options);
  const firstFree = options.find((node) => !node.disabled);
  if (firstFree) {
    firstFree.selected = true;
  }
  byId("players").max = String(chosenCourt.capacity);
  byId("booking-form").hidden = false;
  showPrice();
  byId("duration").focus();
}

function showPrice() {
  const slot = state.chosen;
  const minutes = Number(byId("duration").value);
  const covered = slot && minutes ? coveredSlots(state.slots, slot, minutes) : null;
  const priced = covered && covered.every(isFree);
  byId("price").textContent = priced
    ? money(totalCents(covered, state.availability.booking_interval_minutes), covered[0].currency)
    : "not free for that long";
  byId("book-button").disabled = !priced;
}

function isoInstant(milliseconds) {
  return new Date(milliseconds).toISOString().replace(".000Z", "Z");
}

async function book() {
  const slot = state.chosen;
  const minutes = Number(byId("duration").value);
  const booking = await call("bookings/", {
    method: "POST",
    idempotent: true,
    body: {
      resource: court().id,
      start_datetime: isoInstant(slot.start),
      end_datetime: isoInstant(slot.start + minutes * 60 * 1000),
      participant_count: Number(byId("players").value),
      notes: "",
    },
  });
  byId("booking-form").hidden = true;
  showHold(booking);
  showNotice(`Booked: ${booking.reference_code}. Pay before the hold runs out.`);
  await loadDay().catch(showError);
}

// A pending booking from "My bookings", to pay.
export function resume(booking) {
  showHold(booking);
}

function showHold(booking) {
  state.booking = booking;
  state.stripe = null;
  state.elements = null;
  byId("payment-element").replaceChildren();
  byId("payment-form").hidden = true;
  byId("hold").hidden = false;
  byId("hold-reference").textContent = booking.reference_code;
  const start = wallTime(booking.start_datetime);
  byId("hold-summary").textContent =
    `${booking.resource_name}, ${booking.venue_name}: ${longDay(start.slice(0, 10))}, ` +
    `${start.slice(11)} to ${wallTime(booking.end_datetime).slice(11)} (venue time), ` +
    `${booking.total_price} ${booking.currency}.`;
  showStatus(booking);
  byId("hold").querySelector("h3").scrollIntoView({ block: "nearest" });
}

function showStatus(booking) {
  byId("hold-status").textContent = booking.status;
  const payable = booking.status === "pending";
  byId("pay-button").hidden = !payable;
  if (!payable) {
    byId("payment-form").hidden = true;
  }
  stopCountdown();
  if (payable && booking.hold_expires_at) {
    tick();
    state.countdown = setInterval(tick, 1000);
  } else {
    byId("countdown").textContent = "";
  }
}

function stopCountdown() {
  if (state.countdown !== null) {
    clearInterval(state.countdown);
    state.countdown = null;
  }
}

function tick() {
  const booking = state.booking;
  const left = Date.parse(booking.hold_expires_at) - serverNow().getTime();
  if (left <= 0) {
    byId("countdown").textContent = "The hold has run out: this time is no longer kept for you.";
    stopCountdown();
    return;
  }
  const seconds = Math.ceil(left / 1000);
  const text = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  byId("countdown").textContent = `Held for you for ${text} more.`;
}

async function startPayment() {
  const booking = state.booking;
  const intent = await call(`bookings/${booking.id}/create-payment-intent/`, {
    method: "POST",
    idempotent: true,
  });
  if (typeof window.Stripe !== "function") {
    throw new Error("Stripe.js did not load, so the page cannot take a card. Reload the page and try again.");
  }
  state.stripe = intent.stripe_account_id
    ? window.Stripe(intent.publishable_key, { stripeAccount: intent.stripe_account_id })
    : window.Stripe(intent.publishable_key);
  state.elements = state.stripe.elements({ clientSecret: intent.client_secret });
  byId("payment-element").replaceChildren();
  state.elements.create("payment").mount("#payment-element");
  byId("confirm-payment").textContent = `Pay ${intent.amount} ${intent.currency}`;
  byId("pay-button").hidden = true;
  byId("payment-form").hidden = false;
}

async function confirmPayment() {
  clearMessages();
  const { error, paymentIntent } = await state.stripe.confirmPayment({
    elements: state.elements,
    confirmParams: { return_url: window.location.href },
    redirect: "if_required",
  });
  if (error) {
    if (error.type === "card_error" || error.type === "validation_error") {
      // The card's problem: Stripe's sentence, and the same form takes another card.
      throw new Error(error.message || "The payment did not go through.");
    }
    // Anything else means the payment itself changed meanwhile (the hold ran out and it was
    // cancelled, another tab paid it): what the API says about the booking now.
    await explainRefusedPayment(error);
    return;
  }
  if (paymentIntent && paymentIntent.status === "processing") {
    showNotice("Your payment is processing. The booking turns paid when your bank confirms it.");
  } else {
    showNotice("Payment received. Waiting for the confirmation...");
  }
  byId("payment-form").hidden = true;
  await waitUntilPaid(state.booking.id);
}

async function explainRefusedPayment(error) {
  const intentStatus = error.payment_intent && error.payment_intent.status;
  if (intentStatus === "succeeded" || intentStatus === "processing") {
    // Paid already (another tab, a retry): the booking turns paid when the webhook lands.
    showNotice("This booking's payment was already made. Waiting for the confirmation...");
    byId("payment-form").hidden = true;
    await waitUntilPaid(state.booking.id);
    return;
  }
  const booking = await call(`bookings/${state.booking.id}/`);
  state.booking = booking;
  showStatus(booking);
  if (booking.status === "paid") {
    showNotice(`Paid: ${booking.reference_code}. Your confirmation email is on its way.`);
    return;
  }
  // Ask the API for a payment again: its refusal is the sentence to show (the hold ran out,
  // the booking was cancelled); if it can still be paid, the form starts afresh.
  await startPayment();
  showNotice(`${error.message || "The payment could not go ahead."} Enter the card again.`);
}

async function waitUntilPaid(bookingId) {
  const until = Date.now() + PAID_WAIT_MS;
  for (;;) {
    const booking = await call(`bookings/${bookingId}/`);
    // A hold that ran out just before the payment: the webhook revives the booking if its
    // time is still free, so "cancelled" for that reason is not the last word yet.
    const undecided =
      booking.status === "pending" ||
      (booking.status === "cancelled" && booking.cancellation_reason === "expired");
    if (!undecided || Date.now() > until) {
      state.booking = booking;
      showStatus(booking);
      if (booking.status === "paid") {
        showNotice(`Paid: ${booking.reference_code}. Your confirmation email is on its way.`);
      } else if (booking.status === "pending") {
        showNotice("The payment is not confirmed yet. My bookings shows the booking once it is.");
      } else if (booking.cancellation_reason === "expired") {
        showNotice(
          "The hold had run out when the payment arrived. If the time was still free the " +
            "booking turns paid; if not, the payment is refunded and an email says so. My " +
            "bookings shows which.",
        );
      } else {
        // Cancelled (or its hold ran out and the time was taken) while the payment ran: the
        // API refunds a payment its booking no longer needs, and emails the payer.
        showError(
          new Error(
            `This booking is ${booking.status}, so it was not paid: your payment is refunded ` +
              "automatically, and an email will confirm the refund.",
          ),
        );
      }
      await loadDay().catch(showError);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, PAID_POLL_MS));
  }
}
