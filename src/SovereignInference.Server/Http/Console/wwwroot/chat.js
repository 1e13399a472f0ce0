// The chat playground: model picker, settings, a streamed conversation, the exact prompt and the request as code.

import { ApiError, call, el, json } from "./api.js";
import { curl, javascript, python } from "./codegen.js";
import { sseData } from "./sse.js";
import { wireTablist } from "./tabs.js";

const $ = (id) => document.getElementById(id);

const NUMBER_FIELDS = [
  ["temperature", parseFloat],
  ["top_p", parseFloat],
  ["top_k", (v) => parseInt(v, 10)],
  ["min_p", parseFloat],
  ["max_tokens", (v) => parseInt(v, 10)],
  ["seed", (v) => parseInt(v, 10)],
  ["presence_penalty", parseFloat],
  ["frequency_penalty", parseFloat],
];

/** The conversation so far: {role, content, reasoning?, toolCalls?}. */
const conversation = [];
let running = null;
let codeLanguage = "curl";

export function initChat() {
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("settings").addEventListener("submit", (event) => event.preventDefault());
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  });
  $("stop-generation").addEventListener("click", () => running?.abort());
  $("clear").addEventListener("click", () => {
    running?.abort();
    conversation.length = 0;
    $("messages").replaceChildren();
    setStatus("Conversation cleared.");
    refreshDrawers();
  });
  $("show-prompt").addEventListener("click", () => toggleDrawer("show-prompt", "prompt-view", showPrompt));
  $("show-code").addEventListener("click", () => toggleDrawer("show-code", "code-view", showCode));
  wireTablist($("code-tabs"), (tab) => {
    codeLanguage = tab.dataset.lang;
    showCode();
  });
  $("copy-code").addEventListener("click", copyCode);
  $("model").addEventListener("change", showModelStatus);
  $("settings").addEventListener("input", refreshDrawers);
  $("prompt").addEventListener("input", () => {
    if (!$("code-view").hidden) {
      showCode();
    }
  });
  window.addEventListener("sovereign:key-changed", loadModels);
  loadModels();
}

/** Fills the model picker from /v1/models, or (without a valid key) from the anonymous /health/ready. */
export async function loadModels() {
  const select = $("model");
  const previous = select.value;
  let models;
  let note = "";
  try {
    const list = await json("/v1/models");
    models = (list.data ?? []).map((m) => ({ id: m.id, status: m.status ?? m.state ?? "ready" }));
  } catch (error) {
    try {
      const response = await fetch("/health/ready", { cache: "no-store", credentials: "omit" });
      const health = await response.json();
      models = (health.models ?? []).map((m) => ({ id: m.id, status: m.state }));
      note = error instanceof ApiError ? error.message : String(error);
    } catch {
      models = [];
      note = error.message;
    }
  }
  select.replaceChildren(...models.map((m) => el("option", { value: m.id, "data-status": m.status, text: `${m.id} (${m.status})` })));
  if (models.some((m) => m.id === previous)) {
    select.value = previous;
  }
  if (models.length === 0) {
    select.append(el("option", { value: "", text: "no model" }));
  }
  showModelStatus(note);
}

function showModelStatus(note) {
  const option = $("model").selectedOptions[0];
  const status = option?.dataset.status;
  const text = typeof note === "string" && note ? note : status ? `Status: ${status}` : "";
  $("model-status").textContent = text;
}

function setStatus(text) {
  $("chat-status").textContent = text;
}

/** The request body the settings and conversation make (what Send posts, the code shows and the prompt renders). */
export function requestBody({ withDraft = false } = {}) {
  const messages = [];
  const system = $("system-prompt").value.trim();
  if (system) {
    messages.push({ role: "system", content: system });
  }
  for (const m of conversation) {
    if (m.role === "assistant" && m.toolCalls?.length) {
      messages.push({ role: "assistant", content: m.content || null, tool_calls: m.toolCalls });
    } else {
      messages.push({ role: m.role, content: m.content });
    }
  }
  const draft = $("prompt").value;
  if (withDraft && draft.trim()) {
    messages.push({ role: "user", content: draft });
  }

  const body = { model: $("model").value, messages };
  for (const [name, parse] of NUMBER_FIELDS) {
    const raw = $(name).value.trim();
    if (raw !== "") {
      const value = parse(raw);
      if (Number.isFinite(value)) {
        body[name] = value;
      }
    }
  }
  const stop = $("stop").value.split("\n").filter((s) => s.length > 0);
  if (stop.length > 0) {
    body.stop = stop;
  }
  if ($("json-mode").checked) {
    body.response_format = { type: "json_object" };
  }
  const tools = $("tools").value.trim();
  if (tools) {
    let parsed;
    try {
      parsed = JSON.parse(tools);
    } catch (error) {
      throw new Error(`Tools is not valid JSON: ${error.message}`);
    }
    if (!Array.isArray(parsed)) {
      throw new Error("Tools must be a JSON array of tool definitions");
    }
    body.tools = parsed;
  }
  return body;
}

async function send() {
  if (running) {
    return;
  }
  const text = $("prompt").value;
  if (!text.trim()) {
    setStatus("Type a message first.");
    $("prompt").focus();
    return;
  }
  let body;
  try {
    body = requestBody({ withDraft: true });
  } catch (error) {
    setStatus(error.message);
    return;
  }
  if (!body.model) {
    setStatus("No model to send to.");
    return;
  }
  conversation.push({ role: "user", content: text });
  $("prompt").value = "";
  appendUser(text);
  const view = appendAssistant(body.model);
  const reply = { role: "assistant", content: "", reasoning: "", toolCalls: [] };

  const controller = new AbortController();
  running = controller;
  $("send").disabled = true;
  $("stop-generation").disabled = false;
  setStatus("Generating…");
  const started = performance.now();
  let firstToken = null;
  let usage = null;
  let finish = null;
  let chunks = 0;
  try {
    const response = await call("/v1/chat/completions", {
      method: "POST",
      body: { ...body, stream: true, stream_options: { include_usage: true } },
      signal: controller.signal,
      accept: "text/event-stream",
    });
    for await (const data of sseData(response, controller.signal)) {
      if (data === "[DONE]") {
        break;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(0, chunk.error.message ?? "The stream ended with an error", chunk.error.code);
      }
      if (chunk.usage) {
        usage = chunk.usage;
      }
      const choice = chunk.choices?.[0];
      if (!choice) {
        continue;
      }
      const delta = choice.delta ?? {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) {
        reply.reasoning += reasoning;
      }
      if (delta.content) {
        reply.content += delta.content;
      }
      for (const part of delta.tool_calls ?? []) {
        const index = part.index ?? 0;
        const target = (reply.toolCalls[index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
        if (part.id) {
          target.id = part.id;
        }
        if (part.function?.name) {
          target.function.name += part.function.name;
        }
        if (part.function?.arguments) {
          target.function.arguments += part.function.arguments;
        }
      }
      if (choice.finish_reason) {
        finish = choice.finish_reason;
      }
      if (firstToken === null && (delta.content || reasoning || delta.tool_calls)) {
        firstToken = performance.now();
      }
      chunks++;
      view.update(reply, chunks);
    }
    const seconds = (performance.now() - started) / 1000;
    const parts = [`finish: ${finish ?? (controller.signal.aborted ? "stopped" : "unknown")}`];
    if (usage) {
      parts.push(`${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens`);
      if (usage.completion_tokens > 0 && firstToken !== null) {
        const genSeconds = Math.max(0.001, (performance.now() - firstToken) / 1000);
        parts.push(`${(usage.completion_tokens / genSeconds).toFixed(1)} tok/s`);
      }
    }
    if (firstToken !== null) {
      parts.push(`first token after ${Math.round(firstToken - started)} ms`);
    }
    parts.push(`${seconds.toFixed(2)} s`);
    view.finish(parts.join(" · "));
    setStatus(controller.signal.aborted ? "Stopped." : "Done.");
  } catch (error) {
    if (error.name === "AbortError") {
      view.finish("stopped");
      setStatus("Stopped.");
    } else {
      view.fail(error.message);
      setStatus(`Error: ${error.message}`);
    }
  } finally {
    reply.toolCalls = reply.toolCalls.filter(Boolean);
    if (reply.content || reply.toolCalls.length) {
      conversation.push(reply);
    }
    running = null;
    $("send").disabled = false;
    $("stop-generation").disabled = true;
    refreshDrawers();
  }
}

function appendUser(text) {
  const node = el("div", { class: "message user" }, el("div", { class: "role", text: "you" }), el("p", { class: "content", text }));
  $("messages").append(node);
  node.scrollIntoView({ block: "end" });
}

function appendAssistant(model) {
  const reasoningText = el("div", { class: "reasoning" });
  const summary = el("summary", { text: "Reasoning" });
  const reasoning = el("details", { class: "reasoning-block", hidden: true }, summary, reasoningText);
  const content = el("p", { class: "content" });
  const tools = el("div", { class: "tool-calls" });
  const meta = el("div", { class: "meta" });
  const node = el("div", { class: "message assistant", "data-state": "streaming", "data-chunks": "0" },
    el("div", { class: "role", text: `assistant · ${model}` }), reasoning, content, tools, meta);
  $("messages").append(node);
  const log = $("messages");
  return {
    update(reply, chunks) {
      node.dataset.chunks = String(chunks);
      if (reply.reasoning) {
        reasoning.hidden = false;
        reasoningText.textContent = reply.reasoning;
        summary.textContent = `Reasoning (${reply.reasoning.length} characters)`;
      }
      content.textContent = reply.content;
      tools.replaceChildren(...reply.toolCalls.filter(Boolean).map(toolCallView));
      log.scrollTop = log.scrollHeight;
    },
    finish(text) {
      node.dataset.state = "done";
      meta.textContent = text;
    },
    fail(message) {
      node.dataset.state = "error";
      node.classList.add("error");
      meta.textContent = `Error: ${message}`;
    },
  };
}

function toolCallView(toolCall) {
  let args = toolCall.function.arguments;
  try {
    args = JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    // still streaming, or not JSON: shown as received
  }
  return el("div", { class: "tool-call" },
    el("div", {}, "Tool call ", el("span", { class: "name", text: toolCall.function.name || "(unnamed)" }), toolCall.id ? ` · ${toolCall.id}` : ""),
    el("pre", { class: "code", tabindex: "0", "aria-label": `Arguments of ${toolCall.function.name}`, text: args }));
}

function toggleDrawer(buttonId, drawerId, show) {
  const drawer = $(drawerId);
  const open = drawer.hidden;
  drawer.hidden = !open;
  $(buttonId).setAttribute("aria-expanded", String(open));
  if (open) {
    show();
  }
}

function refreshDrawers() {
  if (!$("prompt-view").hidden) {
    showPrompt();
  }
  if (!$("code-view").hidden) {
    showCode();
  }
}

let promptRequest = 0;

/** Shows the exact prompt of the conversation (plus the draft message) from POST /apply-template. */
async function showPrompt() {
  const id = ++promptRequest;
  const target = $("prompt-text");
  let body;
  try {
    body = requestBody({ withDraft: true });
  } catch (error) {
    target.textContent = error.message;
    return;
  }
  if (body.messages.length === 0) {
    $("prompt-format").textContent = "";
    target.textContent = "The conversation is empty: type a message or a system prompt.";
    return;
  }
  const request = { model: body.model, messages: body.messages };
  if (body.tools) {
    request.tools = body.tools;
  }
  try {
    const result = await json("/apply-template", { method: "POST", body: request });
    if (id === promptRequest) {
      $("prompt-format").textContent = `Chat format: ${result.format}`;
      target.textContent = result.prompt;
    }
  } catch (error) {
    if (id === promptRequest) {
      $("prompt-format").textContent = "";
      target.textContent = `Error: ${error.message}`;
    }
  }
}

function showCode() {
  let body;
  try {
    body = requestBody({ withDraft: true });
  } catch (error) {
    $("code-text").textContent = error.message;
    return;
  }
  const origin = window.location.origin;
  const make = { curl, python, js: javascript }[codeLanguage] ?? curl;
  $("code-text").textContent = make(origin, body);
  $("code-text").dataset.lang = codeLanguage;
}

async function copyCode() {
  const text = $("code-text").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copy-status").textContent = "Copied.";
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("code-text"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    $("copy-status").textContent = "Selected: press Ctrl+C to copy.";
  }
}

