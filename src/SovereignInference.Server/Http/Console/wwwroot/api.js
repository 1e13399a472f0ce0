// Calls to the server's own APIs (same origin), with the API key the user typed, kept in sessionStorage only.

const KEY_STORAGE = "sovereign.apiKey";

export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  } else {
    sessionStorage.removeItem(KEY_STORAGE);
  }
  window.dispatchEvent(new CustomEvent("sovereign:key-changed"));
}

/** An error the server answered (OpenAI/Anthropic error body) or the network failed with. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** fetch with the key; JSON bodies are sent as application/json. Throws ApiError on a non-2xx answer. */
export async function call(path, { method = "GET", body, signal, accept } = {}) {
  const headers = {};
  const key = apiKey();
  if (key) {
    headers.Authorization = `Bearer ${key}`;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (accept) {
    headers.Accept = accept;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    if (error.name === "AbortError") {
      throw error;
    }
    throw new ApiError(0, `The server did not answer (${error.message})`, "network");
  }
  if (!response.ok) {
    throw await errorOf(response);
  }
  return response;
}

export async function json(path, options) {
  const response = await call(path, options);
  return response.json();
}

/** The ApiError of a non-2xx response, from its OpenAI ({error:{message,code}}) or Anthropic error body. */
export async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  let code;
  try {
    const text = await response.text();
    const body = JSON.parse(text);
    const error = body.error ?? body;
    message = error.message ?? message;
    code = error.code ?? error.type;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) {
    message = apiKey() ? "The API key was refused (401). Type another key above." : "This server needs an API key (401). Type it above.";
  }
  return new ApiError(response.status, message, code);
}

/** Creates an element with attributes and children (strings become text nodes; never parsed as HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === "class") {
      node.className = value;
    } else if (name === "text") {
      node.textContent = value;
    } else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) {
    return "–";
  }
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
