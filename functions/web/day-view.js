// The day view, for a venue's staff: the day's bookings across its courts, as a planning
// board (a row per court, a column per booking interval, a booking spanning its columns).

import { all, call, serverNow } from "./api.js";
import { longDay, venueDate, venueTime } from "./slots.js";
import { element, guarded, option } from "./ui.js";

const MINUTE_MS = 60 * 1000;
// Cancelled and refunded bookings free their time: the board leaves them out.
const ON_THE_BOARD = new Set(["pending", "confirmed", "paid", "no_show"]);

let staffVenues = [];
let requests = 0;

function byId(id) {
  return document.getElementById(id);
}

function chosenVenue() {
  return staffVenues.find((venue) => String(venue.venue_id) === byId("day-venue").value);
}

export function start() {
  byId("day-venue").addEventListener("change", () =>
    guarded(null, async () => {
      byId("day-date").value = venueDate(serverNow(), chosenVenue().venue_timezone);
      await load();
    }),
  );
  byId("day-date").addEventListener("change", () => guarded(null, () => load()));
  byId("day-choose").addEventListener("submit", (event) => event.preventDefault());
}

// The venues whose day the account may see: where it is staff, or every venue for an admin.
async function venuesOf(account) {
  if (!account.is_admin) {
    return account.staff;
  }
  const venues = await all("venues/", {});
  return venues.map((venue) => ({
    venue_id: venue.id,
    venue_name: venue.name,
    venue_timezone: venue.timezone,
    role: "admin",
  }));
}

export async function enter(account) {
  const known = staffVenues.map((venue) => venue.venue_id).join();
  staffVenues = await venuesOf(account);
  if (known !== staffVenues.map((venue) => venue.venue_id).join() || !byId("day-date").value) {
    byId("day-venue").replaceChildren(
      ...staffVenues.map((venue, index) => option(venue.venue_id, `${venue.venue_name} (${venue.role})`, index === 0)),
    );
    byId("day-date").value = venueDate(serverNow(), staffVenues[0].venue_timezone);
  }
  await load();
}

async function load() {
  const venue = chosenVenue();
  const day = byId("day-date").value;
  if (!venue || !day) {
    return;
  }
  const asked = ++requests;
  const [courts, bookings] = await Promise.all([
    all("resources/", { venue: venue.venue_id, is_active: "true" }),
    all(`venues/${venue.venue_id}/bookings/`, { start_date: day, end_date: day }),
  ]);
  const days = await inBatches(courts, (court) =>
    call(`resources/${court.id}/availability/`, { query: { start_date: day, end_date: day } }),
  );
  if (asked !== requests) {
    return; // another venue or day was chosen meanwhile
  }
  const live = bookings.filter((booking) => ON_THE_BOARD.has(booking.status));
  render(venue, day, courts, days, live);
}

// `ask` for every item, at most BATCH at a time (a venue may have many courts); answers in
// the items' order.
const BATCH = 6;

async function inBatches(items, ask) {
  const answers = [];
  for (let first = 0; first < items.length; first += BATCH) {
    answers.push(...(await Promise.all(items.slice(first, first + BATCH).map(ask))));
  }
  return answers;
}

function render(venue, day, courts, days, bookings) {
  const windows = days.flatMap((availability) => availability.windows.filter((window) => window.date === day));
  const board = byId("board");
  const count = bookings.length;
  if (!courts.length || !windows.length) {
    byId("day-view-caption").textContent = `${venue.venue_name} is closed on ${longDay(day)}.`;
    board.replaceChildren();
    return;
  }
  const interval = Math.min(...days.map((availability) => availability.booking_interval_minutes)) * MINUTE_MS;
  const first = Math.min(...windows.map((window) => Date.parse(window.start_datetime)));
  const last = Math.max(...windows.map((window) => Date.parse(window.end_datetime)));
  const columns = [];
  for (let at = first; at + interval <= last; at += interval) {
    columns.push(at);
  }
  byId("day-view-caption").textContent =
    `${venue.venue_name}, ${longDay(day)}: ${count} booking${count === 1 ? "" : "s"}. ` +
    `Times are the venue's (${venue.venue_timezone}).`;
  const head = element("tr", {}, element("th", { scope: "col" }, "Court"), ...hourHeadings(columns, venue.venue_timezone));
  const rows = courts.map((court, index) =>
    courtRow(court, days[index], day, columns, interval, bookings, venue.venue_timezone),
  );
  board.replaceChildren(
    element("caption", { className: "visually-hidden" }, `Bookings by court on ${longDay(day)}`),
    element("thead", {}, head),
    element("tbody", {}, ...rows),
  );
}

// One heading per hour over that hour's columns (a heading per column would not fit a day).
function hourHeadings(columns, timeZone) {
  const headings = [];
  for (let index = 0; index < columns.length; ) {
    const label = venueTime(new Date(columns[index]), timeZone);
    let span = 1;
    while (
      index + span < columns.length &&
      venueTime(new Date(columns[index + span]), timeZone).slice(0, 2) === label.slice(0, 2)
    ) {
      span += 1;
    }
    headings.push(element("th", { scope: "colgroup", colspan: String(span) }, label));
    index += span;
  }
  return headings;
}

function courtRow(court, availability, day, columns, interval, bookings, timeZone) {
  const cells = [element("th", { scope: "row" }, court.name)];
  const windows = availability.windows.filter((window) => window.date === day);
  const ofCourt = bookings.filter((booking) => booking.resource === court.id);
  for (let index = 0; index < columns.length; ) {
    const start = columns[index];
    const end = start + interval;
    const booking = ofCourt.find(
      (candidate) => Date.parse(candidate.start_datetime) < end && Date.parse(candidate.end_datetime) > start,
    );
    if (booking) {
      const bookingEnd = Date.parse(booking.end_datetime);
      let span = 1;
      while (index + span < columns.length && columns[index + span] < bookingEnd) {
        span += 1;
      }
      cells.push(bookingCell(booking, span, timeZone));
      index += span;
      continue;
    }
    const open = windows.some(
      (window) => Date.parse(window.start_datetime) <= start && Date.parse(window.end_datetime) >= end,
    );
    const closed =
      !open ||
      availability.unavailable_periods.some(
        (period) => Date.parse(period.start_datetime) < end && Date.parse(period.end_datetime) > start,
      );
    cells.push(
      element(
        "td",
        { className: closed ? "closed" : "free" },
        element("span", { className: "visually-hidden" }, closed ? "closed" : "free"),
      ),
    );
    index += 1;
  }
  return element("tr", { dataset: { court: court.id } }, ...cells);
}

function bookingCell(booking, span, timeZone) {
  const from = venueTime(new Date(booking.start_datetime), timeZone);
  const to = venueTime(new Date(booking.end_datetime), timeZone);
  const who = booking.customer_name || booking.customer_email || "walk-in";
  return element(
    "td",
    {
      colspan: String(span),
      className: `booking ${booking.status}`,
      dataset: { reference: booking.reference_code },
      title: [booking.customer_email, booking.customer_phone, booking.partner_name, booking.notes]
        .filter(Boolean)
        .join(" · "),
    },
    element("strong", {}, who),
    element("span", {}, `${from}–${to}`),
    element("span", {}, `${booking.reference_code} · ${booking.status}`),
  );
}
