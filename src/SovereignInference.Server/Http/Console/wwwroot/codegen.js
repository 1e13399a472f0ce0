// The playground's request as code: curl, the OpenAI Python SDK and the OpenAI JavaScript SDK.
// The key is never written into the code: it is read from the SOVEREIGN_API_KEY environment variable.

/** Parameters the OpenAI SDKs do not know; Python passes them in extra_body, JavaScript as they are. */
const EXTENSIONS = new Set(["top_k", "min_p", "repeat_penalty", "ignore_eos"]);

export function curl(origin, body) {
  const text = JSON.stringify({ ...body, stream: true }, null, 2);
  return [
    `curl -N ${origin}/v1/chat/completions \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -H "Authorization: Bearer $SOVEREIGN_API_KEY" \\`,
    `  -d @- <<'JSON'`,
    text,
    "JSON",
  ].join("\n");
}

export function python(origin, body) {
  const lines = [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(`${origin}/v1`)}, api_key=os.environ.get("SOVEREIGN_API_KEY", "none"))`,
    "stream = client.chat.completions.create(",
  ];
  const extra = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "stream" || name === "stream_options") {
      continue;
    }
    if (EXTENSIONS.has(name)) {
      extra[name] = value;
    } else {
      lines.push(`    ${name}=${toPython(value, 1)},`);
    }
  }
  if (Object.keys(extra).length > 0) {
    lines.push(`    extra_body=${toPython(extra, 1)},`);
  }
  lines.push("    stream=True,", ")", "for chunk in stream:", "    if chunk.choices and chunk.choices[0].delta.content:", '        print(chunk.choices[0].delta.content, end="", flush=True)', "print()");
  return lines.join("\n");
}

export function javascript(origin, body) {
  const request = { ...body, stream: true };
  delete request.stream_options;
  const hasExtensions = Object.keys(request).some((k) => EXTENSIONS.has(k));
  return [
    'import OpenAI from "openai";',
    "",
    `const client = new OpenAI({ baseURL: ${JSON.stringify(`${origin}/v1`)}, apiKey: process.env.SOVEREIGN_API_KEY ?? "none" });`,
    hasExtensions ? "// top_k, min_p, repeat_penalty and ignore_eos are server extensions; the SDK sends them as given." : null,
    `const stream = await client.chat.completions.create(${JSON.stringify(request, null, 2)});`,
    "for await (const chunk of stream) {",
    '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
    "}",
  ].filter((line) => line !== null).join("\n");
}

/** A Python literal of a JSON value (JSON string escapes are valid Python string escapes). */
export function toPython(value, depth = 0) {
  const pad = "    ".repeat(depth + 1);
  const end = "    ".repeat(depth);
  if (value === null || value === undefined) {
    return "None";
  }
  if (value === true) {
    return "True";
  }
  if (value === false) {
    return "False";
  }
  if (typeof value === "number" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return "[]";
    }
    return `[\n${value.map((v) => pad + toPython(v, depth + 1)).join(",\n")},\n${end}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) {
    return "{}";
  }
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${toPython(v, depth + 1)}`).join(",\n")},\n${end}}`;
}
