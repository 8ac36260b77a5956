// A day's slots from the API's availability answer, in the venue's timezone; money in cents.
// Pure functions: no DOM, no calls.

const MINUTE_MS = 60 * 1000;

// "35.00" -> 3500 (the API's money is a decimal string with two places).
export function cents(amount) {
  const [whole, fraction = ""] = String(amount).split(".");
  const sign = whole.startsWith("-") ? -1 : 1;
  return sign * (Math.abs(parseInt(whole, 10)) * 100 + parseInt((fraction + "00").slice(0, 2), 10));
}

export function money(amountCents, currency) {
  const sign = amountCents < 0 ? "-" : "";
  const value = Math.abs(amountCents);
  return `${sign}${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")} ${currency}`;
}

const timeFormats = new Map();

// "HH:MM" of an instant on the venue's clock.
export function venueTime(instant, timeZone) {
  if (!timeFormats.has(timeZone)) {
    timeFormats.set(
      timeZone,
      new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
    );
  }
  return timeFormats.get(timeZone).format(instant);
}

// "YYYY-MM-DD" of an instant on the venue's clock.
export function venueDate(instant, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(instant);
  const part = (type) => parts.find((item) => item.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

// "Monday, 7 December 2026" for a "YYYY-MM-DD" day (a calendar day, whatever the timezone).
export function longDay(day) {
  const [year, month, date] = day.split("-").map(Number);
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "UTC",
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(new Date(Date.UTC(year, month - 1, date)));
}

// The wall-clock date and time an API datetime carries ("2026-12-04T18:00:00+01:00" ->
// "2026-12-04 18:00"): the API gives bookings in their venue's offset.
export function wallTime(datetime) {
  return `${datetime.slice(0, 10)} ${datetime.slice(11, 16)}`;
}

function overlaps(start, end, period) {
  return Date.parse(period.start_datetime) < end && Date.parse(period.end_datetime) > start;
}

function covers(start, end, period) {
  return Date.parse(period.start_datetime) <= start && Date.parse(period.end_datetime) >= end;
}

// The day's slots, one per booking interval from the first opening to the last closing, each
// with its state: "free", "peak" (free, above the court's base price), "booked", "mine" (the
// caller's own booking) or "closed" (outside opening hours, closed, or not bookable now: too
// soon, too far ahead, or in the past).
export function daySlots(availability, day, basePrice) {
  const interval = availability.booking_interval_minutes * MINUTE_MS;
  const timeZone = availability.timezone;
  const windows = availability.windows.filter((window) => window.date === day);
  if (!windows.length) {
    return [];
  }
  const first = Math.min(...windows.map((window) => Date.parse(window.start_datetime)));
  const last = Math.max(...windows.map((window) => Date.parse(window.end_datetime)));
  const ranges = availability.available_ranges.filter((range) => range.date === day);
  const base = cents(basePrice);
  const slots = [];
  for (let start = first; start + interval <= last; start += interval) {
    const end = start + interval;
    const label = venueTime(new Date(start), timeZone);
    const window = windows.find((candidate) => covers(start, end, candidate));
    const booked = availability.booked_slots.find((period) => overlaps(start, end, period));
    const range = ranges.find((candidate) => covers(start, end, candidate));
    let state = "closed";
    let price = window ? cents(window.price_per_hour) : null;
    if (booked) {
      state = booked.booking_id ? "mine" : "booked";
    } else if (!window || availability.unavailable_periods.some((period) => overlaps(start, end, period))) {
      state = "closed";
    } else if (range) {
      const special = range.slot_prices && range.slot_prices[label];
      price = cents(special || range.price_per_hour);
      state = price > base ? "peak" : "free";
    }
    slots.push({
      start,
      end,
      label,
      state,
      price,
      currency: window ? window.currency : "",
      reason: closedReason(state, window, availability, start, end),
      bookingId: booked ? booked.booking_id || null : null,
    });
  }
  return slots;
}

function closedReason(state, window, availability, start, end) {
  if (state !== "closed") {
    return "";
  }
  if (!window) {
    return "closed";
  }
  const period = availability.unavailable_periods.find((candidate) => overlaps(start, end, candidate));
  if (period) {
    return period.reason || "closed";
  }
  return "not bookable";
}

// The durations a booking may have (minutes): from the minimum to the maximum, a whole number
// of intervals.
export function durations(availability) {
  const options = [];
  const step = availability.booking_interval_minutes;
  for (let minutes = availability.min_duration_minutes; minutes <= availability.max_duration_minutes; minutes += step) {
    if (minutes % step === 0) {
      options.push(minutes);
    }
  }
  return options;
}

// The slots a booking from `startSlot` for `minutes` covers, or null when it runs past the
// day's grid (or `startSlot` is not on this grid: one drawn before the day was loaded again).
export function coveredSlots(slots, startSlot, minutes) {
  const index = slots.indexOf(startSlot);
  if (index < 0) {
    return null;
  }
  const end = startSlot.start + minutes * MINUTE_MS;
  const covered = [];
  for (let at = index; at < slots.length && slots[at].start < end; at += 1) {
    covered.push(slots[at]);
  }
  const complete = covered.length && covered[covered.length - 1].end === end;
  return complete ? covered : null;
}

// A booking's total as the API computes it: the sum over its slots of hourly price x interval
// / 60, rounded half up to the cent.
export function totalCents(covered, intervalMinutes) {
  const hourlySum = covered.reduce((sum, slot) => sum + slot.price, 0);
  return Math.floor((2 * hourlySum * intervalMinutes + 60) / 120);
}

export function isFree(slot) {
  return slot.state === "free" || slot.state === "peak";
}
