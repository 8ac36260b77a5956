// "My bookings": the caller's bookings, newest first; pay a pending one, cancel one the terms
// still allow (the refund is what the venue's terms give, made by the API).

import { call } from "./api.js";
import { cents, longDay, money, wallTime } from "./slots.js";
import { clearMessages, element, guarded, showNotice } from "./ui.js";

let handlers = { onPay: () => undefined };

function byId(id) {
  return document.getElementById(id);
}

export function start() {
  byId("upcoming-only").addEventListener("change", () => guarded(null, () => load()));
  byId("more-bookings").addEventListener("click", () => guarded(byId("more-bookings"), () => load(true)));
}

export async function enter(given) {
  handlers = given;
  await load();
}

const PAGE_SIZE = 20;
let shownPages = 0;

// The first page again (`more`: the next one too, added below the rows shown).
async function load(more = false) {
  const page = more ? shownPages + 1 : 1;
  const answer = await call("bookings/", {
    query: { upcoming: byId("upcoming-only").checked ? "true" : undefined, page, page_size: PAGE_SIZE },
  });
  shownPages = page;
  const rows = answer.results.map(row);
  if (more) {
    byId("my-bookings").append(...rows);
  } else {
    byId("my-bookings").replaceChildren(...rows);
  }
  byId("my-bookings-empty").hidden = byId("my-bookings").children.length > 0;
  byId("more-bookings").hidden = !answer.next;
}

function when(booking) {
  const start = wallTime(booking.start_datetime);
  return `${longDay(start.slice(0, 10))}, ${start.slice(11)} to ${wallTime(booking.end_datetime).slice(11)}`;
}

function priceText(booking) {
  const refunded = booking.refunded_amount && booking.refunded_amount !== "0.00";
  return refunded
    ? `${booking.total_price} ${booking.currency} (${booking.refunded_amount} refunded)`
    : `${booking.total_price} ${booking.currency}`;
}

function row(booking) {
  const actions = element("td", { className: "actions" });
  if (booking.status === "pending") {
    const pay = element("button", { type: "button" }, "Pay");
    pay.addEventListener("click", () => handlers.onPay(booking));
    actions.append(pay);
  }
  if (booking.can_cancel) {
    const cancel = element("button", { type: "button", "aria-label": `Cancel ${booking.reference_code}` }, "Cancel");
    cancel.addEventListener("click", () => askToCancel(booking, actions));
    actions.append(cancel);
  }
  return element(
    "tr",
    { dataset: { reference: booking.reference_code } },
    element("th", { scope: "row" }, booking.reference_code),
    element("td", {}, `${booking.resource_name}, ${booking.venue_name}`),
    element("td", {}, when(booking)),
    element("td", {}, priceText(booking)),
    element("td", { className: "status" }, booking.status),
    actions,
  );
}

// Asked in the row itself (no browser dialog): cancel, or keep the booking.
function askToCancel(booking, cell) {
  clearMessages();
  const confirm = element("button", { type: "button" }, "Yes, cancel it");
  const keep = element("button", { type: "button" }, "Keep it");
  const question = element(
    "p",
    { className: "question" },
    booking.status === "paid"
      ? `Cancel ${booking.reference_code}? The refund is what the venue's terms give.`
      : `Cancel ${booking.reference_code}?`,
  );
  cell.replaceChildren(question, confirm, keep);
  confirm.focus();
  keep.addEventListener("click", () => guarded(null, () => load()));
  confirm.addEventListener("click", () =>
    guarded(confirm, async () => {
      const cancelled = await call(`bookings/${booking.id}/cancel/`, {
        method: "POST",
        idempotent: true,
        body: { reason: "user_request", notes: "" },
      });
      showNotice(cancelledText(booking, cancelled));
      // Kept in the list as it is now, even where "upcoming only" would leave it out.
      cell.closest("tr").replaceWith(row(cancelled));
    }),
  );
}

// What the cancellation did: the refund it made now (a refund made before, e.g. a partial one
// from the venue, is not counted as this one's).
function cancelledText(before, cancelled) {
  const now = cents(cancelled.refunded_amount || "0") - cents(before.refunded_amount || "0");
  if (now > 0) {
    return `Cancelled ${cancelled.reference_code}: ${money(now, cancelled.currency)} refunded.`;
  }
  if (before.status === "paid") {
    return `Cancelled ${cancelled.reference_code}. The venue's terms give no refund this close to the start.`;
  }
  return `Cancelled ${cancelled.reference_code}.`;
}
