// The operations dashboard: models (status, memory, worker pid, loads/evictions), live charts from /metrics, and
// per-key usage and the audit log's latest lines (/admin/usage, /admin/audit: admin key only).

import { ApiError, call, el, formatBytes, json } from "./api.js";
import { LineChart } from "./chart.js";
import { buckets, byLabel, max, parsePrometheus, quantileBetween, sum } from "./prometheus.js";

const $ = (id) => document.getElementById(id);

const REFRESH_MS = 1000;
const MODELS_EVERY = 5;
const PERCENTILE_WINDOW_MS = 15000;
const RATE_WINDOW_MS = 5000;

/** Metric names the server exports (src/SovereignInference.Engine/Observability/EngineTelemetry.cs). */
export const METRICS = {
  // Observed once per streamed update (one token, rarely more) after a request's first token: a live token rate.
  // sovereign_generation_tokens_total is counted when a request finishes, so a long stream would show as one late jump.
  streamedTokens: "sovereign_inter_token_latency_seconds_count",
  waiting: "sovereign_num_requests_waiting",
  running: "sovereign_num_requests_running",
  kvUsage: "sovereign_kv_cache_usage_ratio",
  ttft: "sovereign_time_to_first_token_seconds",
  itl: "sovereign_inter_token_latency_seconds",
  loads: "sovereign_model_loads_total",
  evictions: "sovereign_model_evictions_total",
};

let timer = null;
let tick = 0;
let charts = null;
const history = [];
let lastSamples = [];
/** The outcome of the last load/unload button, shown in the models note until the next one. */
let actionNote = "";
let modelsBusy = false;

export function initDashboard() {
  const canvas = (id) => $(id).querySelector("canvas");
  charts = {
    tps: new LineChart(canvas("chart-tps"), ["tok/s"]),
    requests: new LineChart(canvas("chart-requests"), ["queued", "running"]),
    kv: new LineChart(canvas("chart-kv"), ["KV %"]),
    ttft: new LineChart(canvas("chart-ttft"), ["p50", "p95"]),
    itl: new LineChart(canvas("chart-itl"), ["p50", "p95"]),
  };
  Object.values(charts).forEach((c) => c.draw());
  window.addEventListener("sovereign:key-changed", () => {
    history.length = 0;
    adminDenied = false;
    if (timer !== null) {
      refresh(true);
    }
  });
  document.addEventListener("visibilitychange", () => setDashboardVisible(!$("panel-dashboard").hidden));
}

/** Polls while the dashboard is shown and the page is visible. */
export function setDashboardVisible(visible) {
  const active = visible && document.visibilityState !== "hidden";
  if (active && timer === null) {
    refresh(true);
    timer = window.setInterval(() => refresh(false), REFRESH_MS);
  } else if (!active && timer !== null) {
    window.clearInterval(timer);
    timer = null;
  }
}

async function refresh(withModels) {
  tick++;
  await refreshMetrics();
  if (withModels || tick % MODELS_EVERY === 0) {
    await refreshModels();
    await refreshKeys();
  }
}

async function refreshMetrics() {
  let text;
  try {
    const response = await call("/metrics", { accept: "text/plain" });
    text = await response.text();
  } catch (error) {
    $("metrics-note").textContent = error instanceof ApiError && error.status === 401
      ? "Live metrics need an API key (or Sovereign:Metrics:AllowAnonymous on the server)."
      : `Metrics unavailable: ${error.message}`;
    return;
  }
  $("metrics-note").textContent = "";
  const samples = parsePrometheus(text);
  lastSamples = samples;
  const now = performance.now();
  const point = {
    t: now,
    streamed: sum(samples, METRICS.streamedTokens) ?? 0,
    ttft: buckets(samples, METRICS.ttft),
    itl: buckets(samples, METRICS.itl),
  };
  const previous = history[history.length - 1];
  history.push(point);
  while (history.length > 2 && now - history[1].t >= PERCENTILE_WINDOW_MS) {
    history.shift();
  }

  // Over the last 5 s (Prometheus' rate[5s]): tokens reach callers in bursts on a busy machine, per-second rates saw-tooth.
  const since = history.find((p) => now - p.t <= RATE_WINDOW_MS && p !== point) ?? previous;
  const tps = since ? Math.max(0, (point.streamed - since.streamed) / ((now - since.t) / 1000)) : null;
  const waiting = sum(samples, METRICS.waiting) ?? 0;
  const running = sum(samples, METRICS.running) ?? 0;
  const kv = max(samples, METRICS.kvUsage);
  const base = history[0] === point ? null : history[0];
  const ms = (v) => (v === null ? null : v * 1000);
  const ttft = [ms(quantileBetween(base?.ttft, point.ttft, 0.5)), ms(quantileBetween(base?.ttft, point.ttft, 0.95))];
  const itl = [ms(quantileBetween(base?.itl, point.itl, 0.5)), ms(quantileBetween(base?.itl, point.itl, 0.95))];

  charts.tps.push(tps);
  charts.requests.push(waiting, running);
  charts.kv.push(kv === null ? null : kv * 100);
  charts.ttft.push(...ttft);
  charts.itl.push(...itl);
  $("value-tps").textContent = tps === null ? "–" : tps.toFixed(1);
  $("value-tps").dataset.value = tps === null ? "" : String(tps);
  $("value-requests").textContent = `${waiting} queued · ${running} running`;
  $("value-kv").textContent = kv === null ? "–" : `${(kv * 100).toFixed(1)} %`;
  $("value-ttft").textContent = pair(ttft);
  $("value-itl").textContent = pair(itl);
}

function pair([p50, p95]) {
  return p50 === null ? "no requests in the last 15 s" : `${p50.toFixed(0)} / ${p95.toFixed(0)}`;
}

/** The first field of `object` that holds a number, among `names` (a path "a.b" reads a nested field). */
function numberField(object, ...names) {
  for (const name of names) {
    const value = name.split(".").reduce((o, key) => (o == null ? undefined : o[key]), object);
    if (typeof value === "number") {
      return value;
    }
  }
  return null;
}

async function refreshModels() {
  if (modelsBusy) {
    return;
  }
  modelsBusy = true;
  try {
    await renderModels();
  } finally {
    modelsBusy = false;
  }
}

async function renderModels() {
  const notes = [];
  let list = null;
  try {
    list = await json("/v1/models");
  } catch (error) {
    notes.push(error.message);
  }
  let health = null;
  try {
    health = await (await fetch("/health/ready", { cache: "no-store", credentials: "omit" })).json();
  } catch {
    // the probe is open; a failure here means the server is gone
  }

  const rows = new Map();
  for (const m of health?.models ?? []) {
    rows.set(m.id, { id: m.id, status: m.state, error: m.error });
  }
  for (const m of list?.data ?? []) {
    rows.set(m.id, { ...rows.get(m.id), ...m, status: m.status ?? rows.get(m.id)?.status ?? "ready" });
  }
  const managed = (list?.data ?? []).some((m) => typeof m.status === "string");
  const loads = byLabel(lastSamples, METRICS.loads, "model");
  const evictions = byLabel(lastSamples, METRICS.evictions, "model");

  let totalEstimate = 0;
  let anyEstimate = false;
  const body = $("models-table").querySelector("tbody");
  body.replaceChildren(...[...rows.values()].map((m) => {
    const memory = numberField(m, "memory_estimate_bytes", "estimated_memory_bytes", "memory_bytes", "memory.estimate_bytes", "memory.total_bytes");
    if (memory !== null && ["loaded", "ready", "loading"].includes(m.status)) {
      totalEstimate += memory;
      anyEstimate = true;
    }
    const pid = numberField(m, "pid", "worker_pid", "worker.pid");
    const modelLoads = numberField(m, "loads", "load_count") ?? loads.get(m.id) ?? null;
    const modelEvictions = numberField(m, "evictions", "eviction_count") ?? evictions.get(m.id) ?? null;
    const context = numberField(m, "context_length");
    return el("tr", { "data-model": m.id },
      el("th", { scope: "row", text: m.id }),
      el("td", {}, el("span", { class: `status ${m.status}`, text: m.status ?? "–" }), (m.error ?? m.status_reason) ? el("div", { class: "hint", text: m.error ?? m.status_reason }) : null),
      el("td", { class: "num", text: formatBytes(memory ?? undefined) }),
      el("td", { class: "num", text: pid === null ? "–" : String(pid) }),
      el("td", { class: "num", text: context === null ? "–" : context.toLocaleString("en") }),
      el("td", { text: m.quantization ?? "–" }),
      el("td", { class: "num", text: modelLoads === null && modelEvictions === null ? "–" : `${modelLoads ?? 0} / ${modelEvictions ?? 0}` }),
      el("td", {}, managed ? actionButtons(m) : el("span", { class: "hint", text: "–" })));
  }));
  if (rows.size === 0) {
    body.append(el("tr", {}, el("td", { colspan: "8", text: "No model is configured." })));
  }
  if (!managed && list) {
    notes.push("Load/unload: this server loads every configured model at start (no model manager).");
  }
  // The outcome of the last load/unload stays in the note: a refresh must not wipe it before anyone reads it.
  $("models-note").textContent = [actionNote, ...notes].filter((n) => n).join(" ");
  renderBudget(anyEstimate ? totalEstimate : null);
}

function renderBudget(totalEstimate) {
  const target = $("memory-budget");
  // The model manager exports a budget and what is in use per device (sovereign_memory_budget{device="ram"|"gpu0"...},
  // sovereign_memory_in_use{device}); without them, the loaded models' estimate alone.
  const budgets = byLabel(lastSamples, "sovereign_memory_budget", "device");
  const inUse = byLabel(lastSamples, "sovereign_memory_in_use", "device");
  if (totalEstimate === null && budgets.size === 0) {
    target.replaceChildren(el("p", { class: "hint", text: "Memory: the server reports no per-model estimate or budget." }));
    return;
  }
  const parts = [];
  if (budgets.size === 0) {
    parts.push(el("p", { text: `Memory estimate of loaded models: ${formatBytes(totalEstimate ?? undefined)}` }));
  }
  for (const [device, budget] of budgets) {
    const used = inUse.get(device) ?? 0;
    parts.push(el("p", { text: `${device}: ${formatBytes(used)} of a ${formatBytes(budget)} budget in use by loaded models` }));
    if (budget <= 0) {
      continue;
    }
    const fraction = Math.min(1, used / budget);
    const fill = el("span");
    fill.style.width = `${(fraction * 100).toFixed(1)}%`;
    parts.push(el("div", {
      class: "bar",
      role: "meter",
      "aria-label": `Memory in use on ${device} against its budget`,
      "aria-valuemin": "0",
      "aria-valuemax": String(budget),
      "aria-valuenow": String(used),
      "aria-valuetext": `${Math.round(fraction * 100)} percent`,
    }, fill));
  }
  target.replaceChildren(...parts);
}

function actionButtons(model) {
  const note = (text) => {
    actionNote = text;
    $("models-note").textContent = text;
  };
  const act = async (action) => {
    note(`${action === "load" ? "Loading" : "Unloading"} ${model.id}…`);
    try {
      await call(`/models/${action}`, { method: "POST", body: { model: model.id } });
      note(`${model.id}: ${action} requested.`);
    } catch (error) {
      note(`${model.id}: ${action} refused: ${error.message}`);
    }
    refreshModels();
  };
  const loaded = ["loaded", "ready", "loading"].includes(model.status);
  return el("button", {
    type: "button",
    "aria-label": `${loaded ? "Unload" : "Load"} ${model.id}`,
    onclick: () => act(loaded ? "unload" : "load"),
    text: loaded ? "Unload" : "Load",
  });
}

/** Admin routes refused this key (401/403): not asked again until the key changes. */
let adminDenied = false;
let keysBusy = false;
const AUDIT_LINES = 20;

async function refreshKeys() {
  if (adminDenied || keysBusy) {
    return;
  }
  keysBusy = true;
  try {
    await renderKeys();
  } finally {
    keysBusy = false;
  }
}

/** The "Keys and audit log" card, from GET /admin/usage and GET /admin/audit (admin key only when keys are configured). */
async function renderKeys() {
  let usage;
  let audit;
  try {
    usage = await json("/admin/usage");
    audit = await json(`/admin/audit?limit=${AUDIT_LINES}`);
  } catch (error) {
    $("keys-body").hidden = true;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      adminDenied = true;
      $("keys-note").textContent = "Per-key usage and the audit log need an admin key (Sovereign:ApiKeys:N:Admin=true): type one above.";
    } else {
      $("keys-note").textContent = `Keys and audit log unavailable: ${error.message}`;
    }
    return;
  }

  const limited = (used, limit) => (limit > 0 ? `${used ?? 0} / ${limit}` : "unlimited");
  const body = $("keys-table").querySelector("tbody");
  body.replaceChildren(...usage.data.map((k) => el("tr", { "data-key": k.name },
    el("th", { scope: "row", text: k.name }),
    el("td", { text: k.admin ? "yes" : "no" }),
    el("td", { class: "num", text: limited(k.usage.requests_this_minute, k.limits.requests_per_minute) }),
    el("td", { class: "num", text: limited(k.usage.tokens_this_minute, k.limits.tokens_per_minute) }),
    el("td", { class: "num", text: k.limits.max_concurrent_streams > 0 ? `${k.usage.in_flight} / ${k.limits.max_concurrent_streams}` : `${k.usage.in_flight} / unlimited` }),
    el("td", { class: "num", text: `${k.usage.requests} (${k.usage.refused})` }),
    el("td", { class: "num", text: String(k.usage.tokens) }))));
  if (!usage.authentication) {
    body.append(el("tr", {}, el("td", { colspan: "7", text: "No API key is configured: authentication is off (loopback only)." })));
  }
  $("keys-note").textContent = "";

  const lines = $("audit-table").querySelector("tbody");
  lines.replaceChildren(...audit.data.map((line) => el("tr", { class: "audit-line" },
    el("td", { text: (line.time ?? "").replace("T", " ").replace(/\.\d+Z$/, "") }),
    el("td", { text: line.key ?? "–" }),
    el("td", { text: line.model ?? "–" }),
    el("td", { class: "num", text: `${line.prompt_tokens ?? 0} / ${line.completion_tokens ?? 0}` }),
    el("td", { class: "num", text: typeof line.latency_ms === "number" ? line.latency_ms.toFixed(0) : "–" }),
    el("td", { text: line.status ?? "–" }),
    el("td", { text: line.finish_reason ?? "–" }))));
  $("audit-note").textContent = !audit.enabled
    ? "The audit log is off (set Sovereign:Audit:Path to a directory or stdout)."
    : audit.data.length === 0 ? "No request has finished since the server started." : audit.data.length === 1 ? "The latest line." : `The latest ${audit.data.length} lines, newest last.`;
  $("keys-body").hidden = false;
}
