// Renders tests/data/chat/conversations.json with the official MiniMax-M1 chat template
// (data/tokenizer/minimax-01/tokenizer_config.json) through the Jinja reference @huggingface/jinja,
// giving tests/data/chat/expected-m1.jsonl ({"name", "text"} per conversation).  String contents
// are first turned into the list-of-parts form the template expects.
//
//   cd SOMEWHERE && npm install @huggingface/jinja@0.5.11
//   NODE_PATH=SOMEWHERE/node_modules node tools/chat_conformance.mjs
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Template } = await import(require.resolve("@huggingface/jinja"));

const cfg = JSON.parse(fs.readFileSync("data/tokenizer/minimax-01/tokenizer_config.json", "utf8"));
const tmpl = new Template(cfg.chat_template);
const convs = JSON.parse(fs.readFileSync("tests/data/chat/conversations.json", "utf8"));
const toParts = (m) => (typeof m.content === "string" ? { ...m, content: [{ type: "text", text: m.content }] } : m);
const out = [];
for (const c of convs) {
  const vars = { messages: c.messages.map(toParts), add_generation_prompt: c.add_generation_prompt,
                 bos_token: cfg.bos_token, eos_token: cfg.eos_token };
  if (c.tools !== null) vars.tools = c.tools;
  out.push(JSON.stringify({ name: c.name, text: tmpl.render(vars) }));
}
fs.writeFileSync("tests/data/chat/expected-m1.jsonl", out.join("\n") + "\n");
console.error(`${out.length} conversations rendered`);
