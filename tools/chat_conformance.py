#!/usr/bin/env python3
"""Second chat-template reference: Python jinja2 in the environment transformers' apply_chat_template
(and vLLM) use — ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks on, loopcontrols, and
tojson = json.dumps(x, ensure_ascii=False) with default separators.

Run after tools/chat_conformance.mjs, from the repository root (needs only `jinja2`):
    python3 tools/chat_conformance.py
It renders every conversation of tests/data/chat/conversations.json with each template kind and
  - writes tests/data/chat/expected/<name>.<kind>.txt for conversations marked "reference": "python"
    (where @huggingface/jinja is known to differ from Python: float formatting in tojson, the
    whitespace set of the trim filter);
  - checks that every other expected file (written by @huggingface/jinja) is byte-identical to the
    Python rendering, and exits 1 if not;
  - reports whether trim_blocks/lstrip_blocks change each template's output (they must be on).
The preprocessing of the messages is the same as in chat_conformance.mjs (see there).
"""
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def make_env(trim):
    env = ImmutableSandboxedEnvironment(trim_blocks=trim, lstrip_blocks=trim, extensions=[loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env.filters["tojson"] = tojson
    return env


def official_form(messages):
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m.get("content"), str):
            out.append(m)
            continue
        part = {"type": "text", "text": m["content"]}
        if m["role"] == "tool":
            name = m.get("name") if isinstance(m.get("name"), str) else None
            if name is None and "tool_call_id" in m:
                for j in range(i - 1, -1, -1):
                    for c in messages[j].get("tool_calls") or []:
                        if c.get("id") == m["tool_call_id"]:
                            name = c["function"]["name"]
                            break
                    if name is not None:
                        break
            part["name"] = name if name is not None else ""
        out.append(dict(m, content=[part]))
    return out


def vllm_form(messages):
    out = []
    for m in messages:
        if "tool_calls" not in m:
            out.append(m)
            continue
        m = dict(m)
        calls = m.pop("tool_calls")
        if calls:
            m["tool_calls"] = []
            for c in calls:
                a = c["function"].get("arguments")
                if not a:
                    a = {}
                elif isinstance(a, str):
                    a = json.loads(a)
                m["tool_calls"].append(dict(c, function=dict(c["function"], arguments=a)))
        out.append(m)
    return out


def main():
    cfg = json.load(open("data/tokenizer/minimax-01/tokenizer_config.json", encoding="utf-8"))
    sources = {
        "m1": cfg["chat_template"],
        "vllm": open("tests/data/chat/templates/vllm-tool_chat_template_minimax_m1.jinja", encoding="utf-8").read(),
        "llamacpp": open("tests/data/chat/templates/llamacpp-MiniMax-M1.jinja", encoding="utf-8").read(),
    }
    envs = {True: make_env(True), False: make_env(False)}
    tmpl = {(k, t): envs[t].from_string(s) for k, s in sources.items() for t in (True, False)}
    convs = json.load(open("tests/data/chat/conversations.json", encoding="utf-8"))
    written = same = 0
    differ = []
    trim_matters = {k: 0 for k in sources}
    total = {k: 0 for k in sources}
    for c in convs:
        for kind in c.get("templates", ["m1", "vllm", "llamacpp"]):
            messages = official_form(c["messages"]) if kind == "m1" else vllm_form(c["messages"])
            args = dict(messages=messages, add_generation_prompt=c["add_generation_prompt"], tools=c["tools"],
                        bos_token=cfg["bos_token"], eos_token=cfg["eos_token"])
            text = tmpl[(kind, True)].render(**args)
            total[kind] += 1
            if tmpl[(kind, False)].render(**args) != text:
                trim_matters[kind] += 1
            path = "tests/data/chat/expected/%s.%s.txt" % (c["name"], kind)
            data = text.encode("utf-8")
            if c.get("reference") == "python":
                with open(path, "wb") as f:
                    f.write(data)
                written += 1
            elif not os.path.exists(path):
                differ.append(path + " (missing: run tools/chat_conformance.mjs first)")
            elif open(path, "rb").read() != data:
                differ.append(path)
            else:
                same += 1
    print("jinja2 %s: %d renderings written, %d identical to @huggingface/jinja, %d different"
          % (jinja2.__version__, written, same, len(differ)))
    for k in sources:
        print("  %-8s trim_blocks/lstrip_blocks off changes %d of %d renderings" % (k, trim_matters[k], total[k]))
    for d in differ:
        print("  DIFFERS: " + d)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
