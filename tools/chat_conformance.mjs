// Chat-template conformance references: renders every conversation of tests/data/chat/conversations.json
// with the Jinja templates through @huggingface/jinja and writes tests/data/chat/expected/<name>.<kind>.txt
// (raw bytes, no added newline).  The C test (tests/test_chat.c) renders the same conversations natively
// and compares bytes.
//
//   kinds: m1       official MiniMax-M1 template (data/tokenizer/minimax-01/tokenizer_config.json)
//          vllm     tests/data/chat/templates/vllm-tool_chat_template_minimax_m1.jinja
//          llamacpp tests/data/chat/templates/llamacpp-MiniMax-M1.jinja
//   (text01 renders exactly like m1; the test checks that without a file of its own)
//
// A conversation may limit its kinds ("templates": [...]).  Conversations marked "reference": "python"
// are ones where @huggingface/jinja differs from Python jinja2 as transformers/vLLM run it (number
// formatting in tojson, the whitespace set of trim); their files are written by tools/chat_conformance.py,
// which also re-renders everything here with Python jinja2 and fails on any difference.
//
// Run from the repository root (the package lives outside the repository):
//   (cd /some/dir && npm install @huggingface/jinja@0.5.11)
//   NODE_PATH=/some/dir/node_modules node tools/chat_conformance.mjs
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const entry = require.resolve("@huggingface/jinja");
const { Template } = await import(entry);
let version = "?";
for (let d = path.dirname(entry); d !== path.dirname(d); d = path.dirname(d)) {
  const p = path.join(d, "package.json");
  if (fs.existsSync(p)) {
    const pkg = JSON.parse(fs.readFileSync(p, "utf8"));
    if (pkg.name === "@huggingface/jinja") { version = pkg.version; break; }
  }
}

const cfg = JSON.parse(fs.readFileSync("data/tokenizer/minimax-01/tokenizer_config.json", "utf8"));
const templates = {
  m1: new Template(cfg.chat_template),
  vllm: new Template(fs.readFileSync("tests/data/chat/templates/vllm-tool_chat_template_minimax_m1.jinja", "utf8")),
  llamacpp: new Template(fs.readFileSync("tests/data/chat/templates/llamacpp-MiniMax-M1.jinja", "utf8")),
};
const convs = JSON.parse(fs.readFileSync("tests/data/chat/conversations.json", "utf8"));

// What a server does before the template (the same steps as src/chat.c and tools/chat_conformance.py):
// official template: every string content becomes [{type:"text", text}]; an OpenAI tool message
// {"role":"tool", "content": s} becomes one part named by its "name", else by the function name of the
// earlier assistant tool call whose id is its tool_call_id.
function officialForm(messages) {
  return messages.map((m, i) => {
    if (typeof m.content !== "string") return m;
    const part = { type: "text", text: m.content };
    if (m.role === "tool") {
      let name = typeof m.name === "string" ? m.name : null;
      for (let j = i - 1; name === null && j >= 0 && m.tool_call_id !== undefined; j--)
        for (const c of messages[j].tool_calls ?? [])
          if (c.id === m.tool_call_id) { name = c.function.name; break; }
      part.name = name ?? "";
    }
    return { ...m, content: [part] };
  });
}
// vLLM template: vLLM's own preprocessing (entrypoints/chat_utils.py _postprocess_messages): null or
// empty tool_calls are dropped; falsy arguments become {}; string arguments are parsed as JSON.
function vllmForm(messages) {
  return messages.map((m) => {
    if (!("tool_calls" in m)) return m;
    const { tool_calls, ...rest } = m;
    if (!Array.isArray(tool_calls) || tool_calls.length === 0) return rest;
    const calls = tool_calls.map((c) => {
      let a = c.function.arguments;
      if (!a || (Array.isArray(a) && a.length === 0)) a = {};
      else if (typeof a === "string") a = JSON.parse(a);
      return { ...c, function: { ...c.function, arguments: a } };
    });
    return { ...rest, tool_calls: calls };
  });
}

fs.mkdirSync("tests/data/chat/expected", { recursive: true });
let written = 0, skipped = 0;
for (const c of convs) {
  for (const kind of c.templates ?? ["m1", "vllm", "llamacpp"]) {
    if (c.reference === "python") { skipped++; continue; }
    const messages = kind === "m1" ? officialForm(c.messages) : vllmForm(c.messages);
    const vars = { messages, add_generation_prompt: c.add_generation_prompt,
                   bos_token: cfg.bos_token, eos_token: cfg.eos_token };
    if (c.tools !== null) vars.tools = c.tools;
    fs.writeFileSync(`tests/data/chat/expected/${c.name}.${kind}.txt`, templates[kind].render(vars));
    written++;
  }
}
console.error(`@huggingface/jinja ${version}: ${written} renderings written, ${skipped} left to tools/chat_conformance.py`);
