#!/usr/bin/python3
"""Random MiniMax-01-family models (MiniMax-Text-01 / MiniMax-M1 architecture, any shape) in the HF
layout, for tests and benchmarks.  Standard library + numpy only.

    /usr/bin/python3 tools/make_random_model.py OUT_DIR [--layers 5 --hidden 40 --heads 5 ...] [--seed S]
        [--dtype F32|F16|BF16] [--shards N] [--native-config] [--gguf OUT.gguf] [--tokenizer tokenizer.json]

Writes OUT_DIR/config.json (original remote-code field names; with --native-config the
transformers-native renames of SPEC §1: layer_types, *_alpha_factor / *_beta_factor, rope_parameters,
block_size, no postnorm) and the weights (SPEC §2.1 names) as F32 / F16 / BF16 safetensors, optionally
sharded into N files with model.safetensors.index.json.

--gguf also writes the same weights as a llama.cpp-style GGUF v3 of arch `minimax-01` (SPEC §2.2:
stacked experts, F32 norms and router, matrices in --dtype, general.alignment 32).  Only for models that
format can express: all three alphas equal (-> minimax-01.residual_scale), all betas 1, postnorm true,
the default layer pattern (softmax at every 8th layer), no shared expert.

Weight scales follow the project's golden models: matrices N(0,1)*gain/sqrt(fan_in) with gain 1 (1.5
for q/k, 2 for the router, expert/shared down projections and lm_head), times --scale; RMSNorm weights
1 + 0.1 N(0,1); embedding N(0,1).  Activations stay O(1) and logits spread over a few units.
Deterministic for a given --seed (numpy PCG64; the draw order is fixed).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmx_st  # noqa: E402  (the project's safetensors writer)


def die(msg):
    sys.exit(f"make_random_model: {msg}")


def parse_attn_types(spec, L):
    if spec.startswith("every:"):
        n = int(spec.split(":", 1)[1])
        if n < 1:
            die("--attn-types every:N needs N >= 1")
        return [1 if (i + 1) % n == 0 else 0 for i in range(L)]
    v = [int(x) for x in spec.split(",") if x.strip()]
    if len(v) != L:
        die(f"--attn-types has {len(v)} entries for {L} layers")
    if any(t not in (0, 1) for t in v):
        die("--attn-types entries must be 0 (lightning) or 1 (softmax)")
    return v


def parse_triple(s, what):
    v = [float(x) for x in s.split(",")]
    if len(v) == 1:
        v = v * 3
    if len(v) != 3:
        die(f"{what} takes 1 or 3 comma-separated values (linear,full,mlp)")
    return v


def make_weights(a, types, rng):
    """{HF name: float32 ndarray}; the draw order is part of the generator's contract (seeds reproduce)."""
    L, H, nH, nKV, d, E, I, V = a.layers, a.hidden, a.heads, a.kv_heads, a.head_dim, a.experts, a.ffn, a.vocab
    D = nH * d
    scale = np.float32(a.scale)

    # float32 draws keep multi-GB benchmark models within memory
    def mat(rows, cols, gain=1.0):
        return rng.standard_normal((rows, cols), dtype=np.float32) * (np.float32(gain / np.sqrt(cols)) * scale)

    def norm(n):
        return np.float32(1.0) + np.float32(0.1) * rng.standard_normal(n, dtype=np.float32)

    W = {"model.embed_tokens.weight": rng.standard_normal((V, H), dtype=np.float32)}
    for l in range(L):
        p = f"model.layers.{l}."
        W[p + "input_layernorm.weight"] = norm(H)
        W[p + "post_attention_layernorm.weight"] = norm(H)
        if types[l]:
            W[p + "self_attn.q_proj.weight"] = mat(D, H, 1.5)
            W[p + "self_attn.k_proj.weight"] = mat(nKV * d, H, 1.5)
            W[p + "self_attn.v_proj.weight"] = mat(nKV * d, H)
            W[p + "self_attn.o_proj.weight"] = mat(H, D)
        else:
            W[p + "self_attn.qkv_proj.weight"] = mat(3 * D, H)  # rows per head: q, k, v (SPEC §2.1)
            W[p + "self_attn.output_gate.weight"] = mat(D, H)
            W[p + "self_attn.norm.weight"] = norm(D)
            W[p + "self_attn.out_proj.weight"] = mat(H, D)
        W[p + "block_sparse_moe.gate.weight"] = mat(E, H, 2.0)
        for e in range(E):
            W[p + f"block_sparse_moe.experts.{e}.w1.weight"] = mat(I, H)
            W[p + f"block_sparse_moe.experts.{e}.w3.weight"] = mat(I, H)
            W[p + f"block_sparse_moe.experts.{e}.w2.weight"] = mat(H, I, 2.0)
        if a.shared_ffn:  # [ORIG] decoder-layer attributes shared_mlp / coefficient (SPEC §2.1, §5.3)
            W[p + "shared_mlp.gate_proj.weight"] = mat(a.shared_ffn, H)
            W[p + "shared_mlp.up_proj.weight"] = mat(a.shared_ffn, H)
            W[p + "shared_mlp.down_proj.weight"] = mat(H, a.shared_ffn, 2.0)
            W[p + "coefficient.weight"] = mat(1, H)
    W["model.norm.weight"] = norm(H)
    if not a.tie_embeddings:
        W["lm_head.weight"] = mat(V, H, 2.0)
    return W


def make_config(a, types, al, be):
    H, nH, d = a.hidden, a.heads, a.head_dim
    cfg = {
        "architectures": ["MiniMaxText01ForCausalLM"],
        "model_type": "minimax_text_01",
        "hidden_size": H, "num_hidden_layers": a.layers, "num_attention_heads": nH,
        "num_key_value_heads": a.kv_heads, "head_dim": d, "rotary_dim": a.rotary_dim,
        "intermediate_size": a.ffn, "num_local_experts": a.experts, "num_experts_per_tok": a.top_k,
        "shared_intermediate_size": a.shared_ffn, "vocab_size": a.vocab, "rms_norm_eps": a.rms_eps,
        "hidden_act": "silu", "tie_word_embeddings": a.tie_embeddings, "max_position_embeddings": a.context,
        "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[a.dtype],
        "bos_token_id": None, "eos_token_id": None, "sliding_window": None,
        "attention_dropout": 0.0, "router_jitter_noise": 0.0, "use_cache": True,
    }
    if a.native_config:
        cfg.update({
            "architectures": ["MiniMaxForCausalLM"], "model_type": "minimax",
            "layer_types": ["full_attention" if t else "linear_attention" for t in types],
            "linear_attn_alpha_factor": al[0], "full_attn_alpha_factor": al[1], "mlp_alpha_factor": al[2],
            "linear_attn_beta_factor": be[0], "full_attn_beta_factor": be[1], "mlp_beta_factor": be[2],
            "rope_parameters": {"rope_theta": a.rope_theta, "rope_type": "default"}, "block_size": 256,
        })
        del cfg["shared_intermediate_size"]
    else:
        cfg.update({
            "attn_type_list": types, "postnorm": a.postnorm == "true", "rope_theta": a.rope_theta,
            "layernorm_linear_attention_alpha": al[0], "layernorm_full_attention_alpha": al[1],
            "layernorm_mlp_alpha": al[2], "layernorm_linear_attention_beta": be[0],
            "layernorm_full_attention_beta": be[1], "layernorm_mlp_beta": be[2],
            "shared_moe_mode": "sigmoid",
        })
    return cfg


def write_safetensors(out, W, dtype, shards):
    names = list(W)
    if shards > len(names):
        die(f"--shards {shards} exceeds the number of tensors ({len(names)})")
    if shards <= 1:
        mmx_st.write(os.path.join(out, "model.safetensors"), W, dtype)
        return
    size = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]  # round-robin: every file holds pieces of many layers
        fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        mmx_st.write(os.path.join(out, fn), {n: W[n] for n in part}, dtype)
        weight_map.update({n: fn for n in part})
    total = sum(int(np.prod(W[n].shape)) * size for n in names)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)


# ---------------------------------------------------------------------------------------------
# GGUF v3 writer (SPEC §2.2)

GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16, GGML_BF16 = 0, 1, 30
FILE_TYPE = {"F32": 0, "F16": 1, "BF16": 32}  # llama_ftype ALL_F32 / MOSTLY_F16 / MOSTLY_BF16
ALIGN = 32


def _gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gkv(key, vtype, value):
    out = _gstr(key) + struct.pack("<I", vtype)
    if vtype == GGUF_UINT32:
        return out + struct.pack("<I", value)
    if vtype == GGUF_INT32:
        return out + struct.pack("<i", value)
    if vtype == GGUF_FLOAT32:
        return out + struct.pack("<f", value)
    if vtype == GGUF_BOOL:
        return out + struct.pack("<?", value)
    if vtype == GGUF_STRING:
        return out + _gstr(value)
    et, vals = value
    out += struct.pack("<IQ", et, len(vals))
    if et == GGUF_STRING:
        return out + b"".join(_gstr(v) for v in vals)
    if et == GGUF_INT32:
        return out + np.asarray(vals, dtype="<i4").tobytes()
    raise ValueError(et)


def _rounded(n):
    """Parameter count as llama.cpp's size labels write it (e.g. 372K, 1.6M, 46B)."""
    for lim, div, suf in ((1e12, 1e12, "T"), (1e9, 1e9, "B"), (1e6, 1e6, "M"), (0, 1e3, "K")):
        if n > lim or suf == "K":
            x = n / div
            digits = len(str(round(x)).lstrip("0"))
            return f"{x:.{max(2 - digits, 0)}f}{suf}"


def _as_stored(a, dtype):
    """float32 values exactly as the safetensors files hold them in `dtype` (what the HF side loads)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F16":
        return a.astype(np.float16).astype(np.float32)
    if dtype == "BF16":
        return (mmx_st.f32_to_bf16(a).astype(np.uint32) << 16).view(np.float32)
    return a


def _bytes_of(a, ggml_type, dtype):
    a = _as_stored(a, dtype)  # F32 tensors (norms, router) carry the same values as the safetensors
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if ggml_type == GGML_F16:
        return np.ascontiguousarray(a, dtype=np.float32).astype("<f2").tobytes()
    return mmx_st.f32_to_bf16(np.ascontiguousarray(a, dtype=np.float32)).astype("<u2").tobytes()


def gguf_tokenizer_kv(a):
    """tokenizer.* key/values: from --tokenizer (tokenizer.json [+ tokenizer_config.json]) or, without
    one, a placeholder byte-level vocabulary (256 byte tokens, the rest unused) like `mmx quantize`."""
    V = a.vocab
    kv = [("tokenizer.ggml.model", GGUF_STRING, "gpt2"), ("tokenizer.ggml.pre", GGUF_STRING, "minimax-m2")]
    if not a.tokenizer:
        if V < 256:
            return []
        bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
        cps, extra = {}, 0
        for b in range(256):
            if b in bs:
                cps[b] = b
            else:
                cps[b] = 256 + extra
                extra += 1
        toks = [chr(cps[i]) if i < 256 else f"[PAD{i}]" for i in range(V)]
        types = [1 if i < 256 else 5 for i in range(V)]
        return kv + [("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, toks)),
                     ("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_INT32, types)),
                     ("tokenizer.ggml.merges", GGUF_ARRAY, (GGUF_STRING, []))]
    with open(a.tokenizer, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj.get("model", {})
    if model.get("type") != "BPE":
        die(f"{a.tokenizer}: only BPE tokenizers can go into the GGUF")
    vocab = dict(model["vocab"])
    special = {}
    for t in tj.get("added_tokens", []):
        vocab[t["content"]] = t["id"]
        special[t["id"]] = bool(t.get("special"))
    by_id = {}
    for s, i in vocab.items():
        by_id[i] = s
    if by_id and max(by_id) >= V:
        die(f"{a.tokenizer}: token id {max(by_id)} does not fit vocab_size {V}")
    toks, types = [], []
    for i in range(V):
        if i not in by_id:
            toks.append(f"[PAD{i}]")
            types.append(5)  # UNUSED
        else:
            toks.append(by_id[i])
            types.append(1 if i not in special else (3 if special[i] else 4))  # NORMAL / CONTROL / USER_DEFINED
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    kv += [("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, toks)),
           ("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_INT32, types)),
           ("tokenizer.ggml.merges", GGUF_ARRAY, (GGUF_STRING, merges))]
    tc_path = os.path.join(os.path.dirname(os.path.abspath(a.tokenizer)), "tokenizer_config.json")
    tc = {}
    if os.path.exists(tc_path):
        with open(tc_path, encoding="utf-8") as f:
            tc = json.load(f)
    for key, field in (("bos", "bos_token"), ("eos", "eos_token"), ("unknown", "unk_token")):
        t = tc.get(field)
        if isinstance(t, dict):
            t = t.get("content")
        if isinstance(t, str) and t in vocab:
            kv.append((f"tokenizer.ggml.{key}_token_id", GGUF_UINT32, vocab[t]))
    kv += [("tokenizer.ggml.add_bos_token", GGUF_BOOL, False), ("tokenizer.ggml.add_eos_token", GGUF_BOOL, False)]
    if isinstance(tc.get("chat_template"), str):
        kv.append(("tokenizer.chat_template", GGUF_STRING, tc["chat_template"]))
    return kv


def gguf_check(a, types, al, be):
    why = []
    if not (al[0] == al[1] == al[2]):
        why.append(f"alphas {al} are not all equal (GGUF stores one minimax-01.residual_scale)")
    if any(b != 1.0 for b in be):
        why.append(f"betas {be} are not all 1")
    if a.postnorm != "true":
        why.append("postnorm is false (llama.cpp hard-codes the normed residual)")
    if types != [1 if (i + 1) % 8 == 0 else 0 for i in range(a.layers)]:
        why.append("the layer pattern is not the default (softmax at layers i with (i+1) % 8 == 0)")
    if a.shared_ffn:
        why.append("a shared expert has no GGUF tensors")
    if why:
        die("--gguf: this model cannot be expressed in llama.cpp's minimax-01 GGUF: " + "; ".join(why))


def write_gguf(path, a, W, types, al):
    L, H, E, I = a.layers, a.hidden, a.experts, a.ffn
    mt = {"F32": GGML_F32, "F16": GGML_F16, "BF16": GGML_BF16}[a.dtype]

    # (gguf name, ggml type, ne, producer of the numpy array [reversed ne])
    tensors = []

    def add(name, ttype, shape, fn):
        tensors.append((name, ttype, list(reversed(shape)), fn))

    def hf(name, ttype=None):
        arr = W[name]
        add_t = ttype if ttype is not None else (GGML_F32 if arr.ndim == 1 else mt)
        return add_t, arr.shape, (lambda n=name: W[n])

    def put(gname, hfname, ttype=None):
        t, shape, fn = hf(hfname, ttype)
        add(gname, t, shape, fn)

    if "lm_head.weight" in W:
        put("output.weight", "lm_head.weight")
    put("token_embd.weight", "model.embed_tokens.weight")
    for l in sorted(range(L), key=str):  # llama.cpp's converter order: sorted HF names (0, 1, 10, 11, ..., 2)
        p, b = f"model.layers.{l}.", f"blk.{l}."
        for g, w in (("ffn_gate_exps", "w1"), ("ffn_down_exps", "w2"), ("ffn_up_exps", "w3")):
            names = [p + f"block_sparse_moe.experts.{e}.{w}.weight" for e in range(E)]
            shape = (E,) + W[names[0]].shape
            add(b + g + ".weight", mt, shape, lambda ns=names: np.stack([W[n] for n in ns]))
        put(b + "ffn_gate_inp.weight", p + "block_sparse_moe.gate.weight", GGML_F32)
        put(b + "attn_norm.weight", p + "input_layernorm.weight")
        put(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
        if types[l]:
            put(b + "attn_k.weight", p + "self_attn.k_proj.weight")
            put(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            put(b + "attn_q.weight", p + "self_attn.q_proj.weight")
            put(b + "attn_v.weight", p + "self_attn.v_proj.weight")
        else:
            put(b + "attn_norm_2.weight", p + "self_attn.norm.weight")
            put(b + "attn_output.weight", p + "self_attn.out_proj.weight")
            put(b + "attn_gate.weight", p + "self_attn.output_gate.weight")
            put(b + "attn_qkv.weight", p + "self_attn.qkv_proj.weight")
    put("output_norm.weight", "model.norm.weight")

    n_params = sum(int(np.prod(x.shape)) for x in W.values())
    expert_params = sum(int(np.prod(v.shape)) for k, v in W.items() if ".experts." in k)
    label = f"{E}x{_rounded(n_params - expert_params + expert_params // E)}"
    arch = "minimax-01"
    kv = [
        ("general.architecture", GGUF_STRING, arch),
        ("general.type", GGUF_STRING, "model"),
        ("general.name", GGUF_STRING, f"Random MiniMax-01 seed {a.seed}"),
        ("general.size_label", GGUF_STRING, label),
        (f"{arch}.block_count", GGUF_UINT32, L),
        (f"{arch}.context_length", GGUF_UINT32, a.context),
        (f"{arch}.embedding_length", GGUF_UINT32, H),
        (f"{arch}.feed_forward_length", GGUF_UINT32, I),
        (f"{arch}.attention.head_count", GGUF_UINT32, a.heads),
        (f"{arch}.attention.head_count_kv", GGUF_UINT32, a.kv_heads),
        (f"{arch}.rope.freq_base", GGUF_FLOAT32, a.rope_theta),
        (f"{arch}.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, a.rms_eps),
        (f"{arch}.expert_count", GGUF_UINT32, E),
        (f"{arch}.expert_used_count", GGUF_UINT32, a.top_k),
        (f"{arch}.attention.key_length", GGUF_UINT32, a.head_dim),
        (f"{arch}.attention.value_length", GGUF_UINT32, a.head_dim),
        ("general.file_type", GGUF_UINT32, FILE_TYPE[a.dtype]),
        (f"{arch}.residual_scale", GGUF_FLOAT32, al[0]),
        (f"{arch}.rope.dimension_count", GGUF_UINT32, a.rotary_dim),
        ("general.quantization_version", GGUF_UINT32, 2),
    ] + gguf_tokenizer_kv(a)

    elem = {GGML_F32: 4, GGML_F16: 2, GGML_BF16: 2}
    head = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for k, t, v in kv:
        head += _gkv(k, t, v)
    off = 0
    for name, t, ne, _ in tensors:
        head += _gstr(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        head += struct.pack("<IQ", t, off)
        off += -(-int(np.prod(ne)) * elem[t] // ALIGN) * ALIGN
    head += b"\0" * (-len(head) % ALIGN)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head)
        for name, t, ne, fn in tensors:
            arr = fn()
            assert list(reversed(arr.shape)) == ne, name
            raw = _bytes_of(arr, t, a.dtype)
            f.write(raw + b"\0" * (-len(raw) % ALIGN))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output HF model directory")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=16)
    ap.add_argument("--rotary-dim", type=int, default=8)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=48, help="per-expert intermediate_size")
    ap.add_argument("--shared-ffn", type=int, default=0, help="shared expert width (shared_intermediate_size)")
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--attn-types", default="every:8", help='"0,0,1,..." (1 = softmax) or "every:N"')
    ap.add_argument("--alphas", default="2.0,2.0,2.0", help="linear,full,mlp residual alphas (or one value)")
    ap.add_argument("--betas", default="1.0,1.0,1.0", help="linear,full,mlp betas (or one value)")
    ap.add_argument("--postnorm", default="true", choices=["true", "false"])
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--context", type=int, default=1 << 20, help="max_position_embeddings")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplier on the init std of every matrix")
    ap.add_argument("--dtype", default="F32", type=str.upper, choices=["F32", "F16", "BF16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--native-config", action="store_true", help="transformers-native config.json field names")
    ap.add_argument("--tie-embeddings", action="store_true", help="no lm_head; tie_word_embeddings true")
    ap.add_argument("--tokenizer", help="tokenizer.json to copy in (and tokenizer_config.json beside it)")
    ap.add_argument("--gguf", metavar="OUT.gguf", help="also write the weights as a minimax-01 GGUF v3")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    for n in ("layers", "hidden", "heads", "kv_heads", "head_dim", "experts", "top_k", "ffn", "vocab", "shards"):
        if getattr(a, n) < 1:
            die(f"--{n.replace('_', '-')} must be >= 1")
    if a.heads % a.kv_heads:
        die(f"--heads {a.heads} must be a multiple of --kv-heads {a.kv_heads}")
    if a.rotary_dim < 0 or a.rotary_dim % 2 or a.rotary_dim > a.head_dim:
        die(f"--rotary-dim {a.rotary_dim} must be even and at most --head-dim {a.head_dim}")
    if a.top_k > a.experts:
        die(f"--top-k {a.top_k} exceeds --experts {a.experts}")
    if a.shared_ffn < 0:
        die("--shared-ffn must be >= 0")
    types = parse_attn_types(a.attn_types, a.layers)
    al, be = parse_triple(a.alphas, "--alphas"), parse_triple(a.betas, "--betas")
    if a.native_config and a.postnorm != "true":
        die("--native-config implies postnorm (the native port hard-codes it)")
    if a.native_config and a.shared_ffn:
        die("--native-config: the transformers-native config has no shared expert")
    if a.tokenizer and not os.path.exists(a.tokenizer):
        die(f"{a.tokenizer}: no such file")
    if a.gguf:
        gguf_check(a, types, al, be)

    rng = np.random.default_rng(a.seed)
    W = make_weights(a, types, rng)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(make_config(a, types, al, be), f, indent=1)
    write_safetensors(a.out, W, a.dtype, a.shards)
    if a.tokenizer:
        shutil.copy(a.tokenizer, os.path.join(a.out, "tokenizer.json"))
        tc = os.path.join(os.path.dirname(os.path.abspath(a.tokenizer)), "tokenizer_config.json")
        if os.path.exists(tc):
            shutil.copy(tc, os.path.join(a.out, "tokenizer_config.json"))
    if a.gguf:
        write_gguf(a.gguf, a, W, types, al)


if __name__ == "__main__":
    main()
