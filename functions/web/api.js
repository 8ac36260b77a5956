// Calls to this API, from the page's own origin: the token, the JSON, the problem sentences,
// and the server's clock (from each answer's Date header), so that countdowns and "today"
// follow the API's time rather than this computer's.

const API = new URL("api/v1/", document.baseURI);
const TOKEN_KEY = "booking-page-token";

let serverOffsetMs = 0;

export class ApiError extends Error {
  constructor(status, body) {
    super(problemSentence(status, body));
    this.status = status;
    this.body = body;
  }
}

// The sentence a person should read: the field messages when the request had invalid fields
// (the problem's `errors`; its `detail` prefixes them with field names), else the problem's
// detail (the seed's sentence).
export function problemSentence(status, body) {
  if (body && typeof body === "object") {
    const fields = Array.isArray(body.errors)
      ? [...new Set(body.errors.map((error) => error && error.detail).filter(Boolean))]
      : [];
    if (fields.length) {
      return fields.join(" ");
    }
    const detail = body.detail || body.error || body.title;
    if (detail) {
      return String(detail);
    }
  }
  return `The API answered ${status}.`;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

// The API's time now (its clock may differ from this computer's; locally it can be moved).
export function serverNow() {
  return new Date(Date.now() + serverOffsetMs);
}

function noteServerTime(response) {
  const date = response.headers.get("Date");
  const when = date ? Date.parse(date) : NaN;
  if (!Number.isNaN(when)) {
    // Date has whole seconds: keep the offset unless it moved by more than that.
    const offset = when - Date.now();
    if (Math.abs(offset - serverOffsetMs) > 1500) {
      serverOffsetMs = offset;
    }
  }
}

// One request to the API: path relative to /api/v1/ ("bookings/"), JSON in and out. Throws
// ApiError with the API's own sentence for any answer that is not 2xx.
export async function call(path, { method = "GET", body, query, idempotent = false } = {}) {
  const url = new URL(path, API);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") {
      url.searchParams.set(name, value);
    }
  }
  const headers = { Accept: "application/json" };
  const current = token();
  if (current) {
    headers.Authorization = `Token ${current}`;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (idempotent) {
    headers["Idempotency-Key"] = crypto.randomUUID();
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { detail: "The API cannot be reached. Check your connection and try again." });
  }
  noteServerTime(response);
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text };
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

// Every page of a list ({results, next}), up to `limit` items.
export async function all(path, query = {}, limit = 500) {
  const results = [];
  let page = 1;
  for (;;) {
    const answer = await call(path, { query: { ...query, page, page_size: 100 } });
    results.push(...answer.results);
    if (!answer.next || results.length >= limit) {
      return results;
    }
    page += 1;
  }
}
