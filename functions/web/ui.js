// What the page shows besides its views: the error sentence, a notice, and small DOM helpers.

const message = () => document.getElementById("message");
const notice = () => document.getElementById("notice");

// An error, in the API's own sentence (role="alert": read out when it appears).
export function showError(error) {
  const box = message();
  box.textContent = error && error.message ? error.message : String(error);
  box.hidden = false;
  notice().hidden = true;
}

export function showNotice(text) {
  const box = notice();
  box.textContent = text;
  box.hidden = false;
  message().hidden = true;
}

export function clearMessages() {
  message().hidden = true;
  notice().hidden = true;
}

// Runs `action`, showing its error sentence instead of throwing; the button is disabled
// meanwhile so that a double click sends one request.
export async function guarded(button, action) {
  if (button) {
    button.disabled = true;
  }
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
    }
  }
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === "className") {
      node.className = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child);
    }
  }
  return node;
}

export function option(value, text, selected = false) {
  const node = element("option", { value }, text);
  node.selected = selected;
  return node;
}
