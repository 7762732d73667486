// A scripted OpenAI-compatible chat endpoint: every POST .../chat/completions
// streams the same hostile Markdown answer (markup that must stay text, bold,
// a fenced Python block) in small pieces with a pause between them, so the
// page is caught mid-stream and has to render untrusted output safely.
//
// usage: node upstream.mjs PORT_FILE [DELAY_MS]
// Listens on a free port on 127.0.0.1 and writes that port into PORT_FILE.
import http from "node:http";
import { writeFileSync } from "node:fs";

const HOSTILE_ANSWER = [
  "Here is **bold** text, and markup that must stay text: ",
  "<script>window.__pwned=1</script> and ",
  '<img src=x onerror="window.__pwned=2">.\n\n',
  "```python\n",
  "def add(a, b):\n",
  "    # the sum of two numbers\n",
  "    return a + b + 42\n",
  'print("sum:", add(1, 2))\n',
  "```\n",
].join("");

function pieces(text, size) {
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function chunk(model, delta, finishReason) {
  return JSON.stringify({
    id: "chatcmpl-scripted",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
}

function answer(req, res, body, delayMs) {
  let request;
  try {
    request = JSON.parse(body);
  } catch {
    res.writeHead(400, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: { message: "body is not JSON" } }));
    return;
  }
  const model = String(request.model ?? "scripted");
  if (request.stream !== true) {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      id: "chatcmpl-scripted",
      object: "chat.completion",
      model,
      choices: [{ index: 0, message: { role: "assistant", content: HOSTILE_ANSWER }, finish_reason: "stop" }],
      usage: { prompt_tokens: 8, completion_tokens: 64, total_tokens: 72 },
    }));
    return;
  }
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  const queue = [chunk(model, { role: "assistant", content: "" }, null)];
  for (const piece of pieces(HOSTILE_ANSWER, 12)) queue.push(chunk(model, { content: piece }, null));
  queue.push(chunk(model, {}, "stop"));
  queue.push(JSON.stringify({ id: "chatcmpl-scripted", object: "chat.completion.chunk", model, choices: [],
                              usage: { prompt_tokens: 8, completion_tokens: 64, total_tokens: 72 } }));
  queue.push("[DONE]");
  let closed = false;
  res.on("close", () => { closed = true; });
  const next = () => {
    if (closed) return;
    const data = queue.shift();
    if (data === undefined) {
      res.end();
      return;
    }
    res.write(`data: ${data}\n\n`);
    setTimeout(next, delayMs);
  };
  next();
}

function startUpstream(port, delayMs) {
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url.endsWith("/models")) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "scripted", object: "model" }] }));
      return;
    }
    if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (data) => { body += data; });
    req.on("end", () => answer(req, res, body, delayMs));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

const [portFile, delay] = process.argv.slice(2);
if (!portFile) {
  console.error("usage: node upstream.mjs PORT_FILE [DELAY_MS]");
  process.exit(2);
}
const server = await startUpstream(0, delay === undefined ? 60 : Number(delay));
writeFileSync(portFile, `${server.address().port}\n`);
// SIGTERM from the test script's cleanup: stop at once, open streams included.
process.on("SIGTERM", () => process.exit(0));
