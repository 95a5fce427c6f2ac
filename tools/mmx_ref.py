#!/usr/bin/python3
"""Float64 reference forward pass of the MiniMax-01 family (MiniMax-Text-01 / MiniMax-M1), written
straight from SPEC.md and independent of the C engine, to check the engine on models that the golden
files do not cover.  Standard library + numpy only.

    /usr/bin/python3 tools/mmx_ref.py MODEL_DIR --tokens 1,2,3 --out logits.f32
    /usr/bin/python3 tools/mmx_ref.py MODEL_DIR --tokens-file toks.json --out logits.f32
    /usr/bin/python3 tools/mmx_ref.py MODEL_DIR --compare golden/logits-64.f32      # tokens from its sidecar

MODEL_DIR: an HF directory -- config.json (original remote-code field names or the transformers-native
renames, SPEC §1) and one or many .safetensors files (F32 / F16 / BF16), with or without
model.safetensors.index.json.

Output: logits of EVERY position, raw little-endian float32 [T, vocab] row-major, plus a sidecar
FILE.json {"shape": [T, V], "dtype": "float32", "tokens": [...]} (the golden files' format).

Semantics (SPEC §3-§5), all in float64:
  * decoder layer with DeepNorm alpha/beta per kind and the `postnorm` flag (original config default
    false; transformers-native configs hard-code postnorm);
  * lightning attention: per-head interleaved qkv rows, SiLU on q, k, v, per-head decay from [ORIG]
    _build_slope_tensor (ALiBi fallback when the head count is not a power of two), layer factor
    1 - l/(L-1) + 1e-5 (1 + 1e-5 when L <= 1), the token-by-token recurrence of §4.3 (the definition;
    no block algorithm), one RMSNorm over all nH*d outputs with eps 1e-6, sigmoid gate from the layer
    input;
  * softmax attention: GQA, NeoX RoPE on the first rotary_dim dims of each head, scale 1/sqrt(head_dim);
  * MoE: softmax router, top-k, weights renormalised over the chosen k, SwiGLU experts;
    top-k tie rule: larger probability first, exact ties go to the LOWER expert index (stable sort);
  * shared expert (§5.3, [ORIG]) when shared_intermediate_size > 0:
    m = MoE(v)*(1-c) + SwiGLU_shared(v)*c, c = sigmoid(coefficient . v), tensors
    model.layers.N.shared_mlp.{gate,up,down}_proj.weight and model.layers.N.coefficient.weight
    (shared width taken from the tensors: [ORIG] builds it with intermediate_size, vLLM with
    shared_intermediate_size);
  * final RMSNorm and lm_head (tie_word_embeddings true, or no lm_head tensor: the embedding).
"""
import argparse
import glob
import json
import math
import os
import struct
import sys

import numpy as np


class RefError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# safetensors (own minimal reader)

_ST_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2), "F64": ("<f8", 8)}


def read_safetensors(path):
    """{name: float64 ndarray} of one .safetensors file (F32, F16, BF16, F64)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise RefError(f"{path}: too short for a safetensors file")
    (hl,) = struct.unpack("<Q", data[:8])
    if 8 + hl > len(data):
        raise RefError(f"{path}: header length {hl} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8 : 8 + hl].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RefError(f"{path}: bad header JSON: {e}")
    base = 8 + hl
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        dt = v.get("dtype")
        if dt not in _ST_DTYPES:
            raise RefError(f"{path}: tensor {name}: unsupported dtype {dt}")
        np_dt, size = _ST_DTYPES[dt]
        shape = [int(x) for x in v["shape"]]
        b, e = (int(x) for x in v["data_offsets"])
        n = int(np.prod(shape)) if shape else 1
        if not (0 <= b <= e and base + e <= len(data)) or e - b != n * size:
            raise RefError(f"{path}: tensor {name}: data_offsets {b}..{e} do not fit shape {shape} {dt}")
        a = np.frombuffer(data, dtype=np_dt, count=n, offset=base + b)
        if dt == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = a.astype(np.float64).reshape(shape)
    return out


def load_weights(model_dir):
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        files = [os.path.join(model_dir, x) for x in sorted(set(wm.values()))]
    else:
        wm = None
        files = sorted(glob.glob(os.path.join(model_dir, "*.safetensors")))
    if not files:
        raise RefError(f"{model_dir}: no .safetensors files")
    W = {}
    for p in files:
        for k, v in read_safetensors(p).items():
            if k in W:
                raise RefError(f"{p}: tensor {k} appears in two files")
            W[k] = v
    if wm is not None:
        missing = [k for k in wm if k not in W]
        if missing:
            raise RefError(f"{idx}: {len(missing)} tensors of the index are in no file, e.g. {missing[0]}")
    return W


# ---------------------------------------------------------------------------------------------
# config (SPEC §1)


def load_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = json.load(f)
    native = "layer_types" in c or c.get("model_type") == "minimax"

    def get(*names, default=None):
        for n in names:
            if c.get(n) is not None:
                return c[n]
        return default

    L = int(c["num_hidden_layers"])
    H = int(c["hidden_size"])
    nH = int(c["num_attention_heads"])
    d = int(get("head_dim", default=H // nH))
    cfg = {
        "L": L, "H": H, "nH": nH, "d": d,
        "nKV": int(get("num_key_value_heads", default=nH)),
        "I": int(c["intermediate_size"]),
        "E": int(get("num_local_experts", default=1)),
        "k": int(get("num_experts_per_tok", default=1)),
        "V": int(c["vocab_size"]),
        "eps": float(get("rms_norm_eps", default=1e-5)),
        "alpha_lin": float(get("layernorm_linear_attention_alpha", "linear_attn_alpha_factor", default=1.0)),
        "beta_lin": float(get("layernorm_linear_attention_beta", "linear_attn_beta_factor", default=1.0)),
        "alpha_full": float(get("layernorm_full_attention_alpha", "full_attn_alpha_factor", default=1.0)),
        "beta_full": float(get("layernorm_full_attention_beta", "full_attn_beta_factor", default=1.0)),
        "alpha_mlp": float(get("layernorm_mlp_alpha", "mlp_alpha_factor", default=1.0)),
        "beta_mlp": float(get("layernorm_mlp_beta", "mlp_beta_factor", default=1.0)),
        # [ORIG]: getattr(config, 'postnorm', False); the native port always uses the normed residual
        "postnorm": bool(c["postnorm"]) if c.get("postnorm") is not None else native,
        "tied": bool(c.get("tie_word_embeddings", False)),
    }
    if c.get("rotary_dim") is not None:
        cfg["rot"] = int(c["rotary_dim"])
    else:
        cfg["rot"] = int(round(float(c.get("partial_rotary_factor", 1.0)) * d))
    rp = c.get("rope_parameters")
    if isinstance(rp, dict) and rp.get("rope_theta") is not None:
        cfg["theta"] = float(rp["rope_theta"])
    else:
        cfg["theta"] = float(get("rope_theta", default=10000.0))
    if c.get("attn_type_list") is not None:
        types = [int(x) for x in c["attn_type_list"]]
        if any(t not in (0, 1) for t in types):
            raise RefError("attn_type_list entries must be 0 (lightning) or 1 (softmax)")
        cfg["softmax"] = [t == 1 for t in types]
    elif c.get("layer_types") is not None:
        if any(x not in ("linear_attention", "full_attention") for x in c["layer_types"]):
            raise RefError('layer_types entries must be "linear_attention" or "full_attention"')
        cfg["softmax"] = [x == "full_attention" for x in c["layer_types"]]
    else:
        cfg["softmax"] = [(i + 1) % 8 == 0 for i in range(L)]
    if len(cfg["softmax"]) != L:
        raise RefError(f"layer type list has {len(cfg['softmax'])} entries for {L} layers")
    sh = c.get("shared_intermediate_size") or 0
    cfg["Is"] = [int(sh[l]) if l < len(sh) else 0 for l in range(L)] if isinstance(sh, list) else [int(sh)] * L
    if nH % cfg["nKV"]:
        raise RefError(f"num_attention_heads {nH} is not a multiple of num_key_value_heads {cfg['nKV']}")
    if cfg["rot"] % 2 or not 0 <= cfg["rot"] <= d:
        raise RefError(f"rotary_dim {cfg['rot']} must be even and at most head_dim {d}")
    if not 1 <= cfg["k"] <= cfg["E"]:
        raise RefError(f"num_experts_per_tok {cfg['k']} must be in [1, num_local_experts {cfg['E']}]")
    return cfg


# ---------------------------------------------------------------------------------------------
# math


STATS = {}  # diagnostics of the last forward pass (--stats)


def slopes_base(n):
    """[ORIG] MiniMaxText01Model._build_slope_tensor (SPEC §4.2): per-head decay base for n heads."""

    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_2(n)
    cpow = 2 ** math.floor(math.log2(n))
    return power_of_2(cpow) + slopes_base(2 * cpow)[0::2][: n - cpow]


def layer_factor(l, L):
    return 1 + 1e-5 if L <= 1 else 1 - l / (L - 1) + 1e-5


def rmsnorm(x, g, eps):
    return g * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def need(W, name):
    if name not in W:
        raise RefError(f"tensor {name} is missing")
    return W[name]


def mat(W, name, rows, cols):
    a = need(W, name)
    if a.shape != (rows, cols):
        raise RefError(f"tensor {name} has shape {list(a.shape)}, expected {[rows, cols]}")
    return a


def vec(W, name, n):
    a = need(W, name)
    if a.shape != (n,):
        raise RefError(f"tensor {name} has shape {list(a.shape)}, expected {[n]}")
    return a


# ---------------------------------------------------------------------------------------------
# layers


def lightning(cfg, W, p, u, l):
    """SPEC §4: u [T, H] -> [T, H]."""
    T, H, nH, d, L = u.shape[0], cfg["H"], cfg["nH"], cfg["d"], cfg["L"]
    D = nH * d
    z = silu(u @ mat(W, p + "self_attn.qkv_proj.weight", 3 * D, H).T).reshape(T, nH, 3 * d)
    q, k, v = z[:, :, :d], z[:, :, d : 2 * d], z[:, :, 2 * d :]  # per-head interleaved rows
    lam = np.exp(-np.array(slopes_base(nH)) * layer_factor(l, L))[:, None, None]  # [nH, 1, 1]
    S = np.zeros((nH, d, d))
    o = np.empty((T, nH, d))
    for t in range(T):  # S_h(t) = lambda_h S_h(t-1) + k^T v ;  o = q S
        S = lam * S + k[t][:, :, None] * v[t][:, None, :]
        o[t] = np.einsum("hi,hij->hj", q[t], S)
    y = rmsnorm(o.reshape(T, D), vec(W, p + "self_attn.norm.weight", D), 1e-6)
    y = sigmoid(u @ mat(W, p + "self_attn.output_gate.weight", D, H).T) * y
    return y @ mat(W, p + "self_attn.out_proj.weight", H, D).T


def softmax_attention(cfg, W, p, u):
    """SPEC §5.1: u [T, H] -> [T, H]."""
    T, H, nH, nKV, d, rot = u.shape[0], cfg["H"], cfg["nH"], cfg["nKV"], cfg["d"], cfg["rot"]
    q = (u @ mat(W, p + "self_attn.q_proj.weight", nH * d, H).T).reshape(T, nH, d)
    k = (u @ mat(W, p + "self_attn.k_proj.weight", nKV * d, H).T).reshape(T, nKV, d)
    v = (u @ mat(W, p + "self_attn.v_proj.weight", nKV * d, H).T).reshape(T, nKV, d)
    if rot:
        half = rot // 2
        inv = cfg["theta"] ** (-2.0 * np.arange(half) / rot)  # theta_i = base^(-2i/rot)
        ang = np.arange(T, dtype=np.float64)[:, None] * inv[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

        def rope(x):  # NeoX pairs (i, i + rot/2) inside the first rot dims
            x = x.copy()
            a, b = x[:, :, :half].copy(), x[:, :, half:rot].copy()
            x[:, :, :half] = a * cos - b * sin
            x[:, :, half:rot] = b * cos + a * sin
            return x

        q, k = rope(q), rope(k)
    g = nH // nKV
    kh = np.repeat(k, g, axis=1).transpose(1, 0, 2)  # [nH, T, d], head h uses kv head h // g
    vh = np.repeat(v, g, axis=1).transpose(1, 0, 2)
    s = np.einsum("htd,hsd->hts", q.transpose(1, 0, 2), kh) / math.sqrt(d)
    s = np.where(np.tril(np.ones((T, T), dtype=bool))[None], s, -np.inf)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    o = np.einsum("hts,hsd->thd", s, vh).reshape(T, nH * d)
    return o @ mat(W, p + "self_attn.o_proj.weight", H, nH * d).T


def expert_weights(cfg, W, p):
    """[(w1, w3, w2)] per expert and the router, from the original or the transformers-native names."""
    H, I, E = cfg["H"], cfg["I"], cfg["E"]
    if p + "block_sparse_moe.gate.weight" in W:
        router = mat(W, p + "block_sparse_moe.gate.weight", E, H)
        experts = [(mat(W, p + f"block_sparse_moe.experts.{e}.w1.weight", I, H),
                    mat(W, p + f"block_sparse_moe.experts.{e}.w3.weight", I, H),
                    mat(W, p + f"block_sparse_moe.experts.{e}.w2.weight", H, I)) for e in range(E)]
    elif p + "mlp.gate.weight" in W:  # native fused: gate_up_proj [E, 2I, H] (gate first), down_proj [E, H, I]
        router = mat(W, p + "mlp.gate.weight", E, H)
        gu, dn = need(W, p + "mlp.experts.gate_up_proj"), need(W, p + "mlp.experts.down_proj")
        if gu.shape != (E, 2 * I, H) or dn.shape != (E, H, I):
            raise RefError(f"{p}mlp.experts: shapes {list(gu.shape)} / {list(dn.shape)} do not match the config")
        experts = [(gu[e, :I], gu[e, I:], dn[e]) for e in range(E)]
    else:
        raise RefError(f"tensor {p}block_sparse_moe.gate.weight is missing")
    return router, experts


def moe(cfg, W, p, v, Is):
    """SPEC §5.2 / §5.3: v [T, H] -> [T, H]."""
    H, E, k = cfg["H"], cfg["E"], cfg["k"]
    router, experts = expert_weights(cfg, W, p)
    logits = v @ router.T
    pr = np.exp(logits - logits.max(axis=1, keepdims=True))
    pr /= pr.sum(axis=1, keepdims=True)
    # top-k: larger probability first; exact ties -> lower expert index (stable sort of -p)
    order = np.argsort(-pr, axis=1, kind="stable")
    top = order[:, :k]  # [T, k]
    if k < E:  # smallest gap between the k-th and (k+1)-th probability: how close routing is to a flip
        gap = np.take_along_axis(pr, order[:, k - 1 : k], 1) - np.take_along_axis(pr, order[:, k : k + 1], 1)
        STATS["router_margin"] = min(STATS.get("router_margin", np.inf), float(gap.min()))
    wsel = np.take_along_axis(pr, top, axis=1)
    wsel /= wsel.sum(axis=1, keepdims=True)
    out = np.zeros_like(v)
    for e in range(E):
        rows, slot = np.nonzero(top == e)
        if rows.size == 0:
            continue
        w1, w3, w2 = experts[e]
        x = v[rows]
        out[rows] += wsel[rows, slot][:, None] * ((silu(x @ w1.T) * (x @ w3.T)) @ w2.T)
    if Is:
        Iw = need(W, p + "shared_mlp.gate_proj.weight").shape[0]
        gate = mat(W, p + "shared_mlp.gate_proj.weight", Iw, H)
        up = mat(W, p + "shared_mlp.up_proj.weight", Iw, H)
        down = mat(W, p + "shared_mlp.down_proj.weight", H, Iw)
        c = sigmoid(v @ mat(W, p + "coefficient.weight", 1, H).T)  # [T, 1]
        out = out * (1 - c) + ((silu(v @ gate.T) * (v @ up.T)) @ down.T) * c
    return out


def forward(cfg, W, tokens):
    """float64 logits [T, V] of every position."""
    STATS.clear()
    L, H, V = cfg["L"], cfg["H"], cfg["V"]
    emb = mat(W, "model.embed_tokens.weight", V, H)
    tok = np.asarray(tokens, dtype=np.int64)
    if tok.size == 0:
        raise RefError("no tokens")
    if tok.min() < 0 or tok.max() >= V:
        raise RefError(f"token ids must be in [0, {V})")
    h = emb[tok]
    eps = cfg["eps"]
    for l in range(L):
        p = f"model.layers.{l}."
        u = rmsnorm(h, vec(W, p + "input_layernorm.weight", H), eps)
        if cfg["softmax"][l]:
            a = softmax_attention(cfg, W, p, u)
            alpha, beta = cfg["alpha_full"], cfg["beta_full"]
        else:
            a = lightning(cfg, W, p, u, l)
            alpha, beta = cfg["alpha_lin"], cfg["beta_lin"]
        h = alpha * (u if cfg["postnorm"] else h) + beta * a
        v = rmsnorm(h, vec(W, p + "post_attention_layernorm.weight", H), eps)
        m = moe(cfg, W, p, v, cfg["Is"][l])
        h = cfg["alpha_mlp"] * (v if cfg["postnorm"] else h) + cfg["beta_mlp"] * m
    hf = rmsnorm(h, vec(W, "model.norm.weight", H), eps)
    head = emb if cfg["tied"] or "lm_head.weight" not in W else mat(W, "lm_head.weight", V, H)
    return hf @ head.T


def reference_logits(model_dir, tokens):
    cfg = load_config(model_dir)
    return cfg, forward(cfg, load_weights(model_dir), tokens)


# ---------------------------------------------------------------------------------------------


def read_tokens_file(path):
    with open(path) as f:
        t = json.load(f)
    if isinstance(t, dict):  # a logits sidecar
        t = t["tokens"]
    if not isinstance(t, list) or not all(isinstance(x, int) for x in t):
        raise RefError(f"{path}: expected a JSON list of token ids (or a sidecar with 'tokens')")
    return t


def write_logits(path, logits, tokens):
    logits.astype("<f4").tofile(path)
    with open(path + ".json", "w") as f:
        json.dump({"shape": list(logits.shape), "dtype": "float32", "tokens": [int(x) for x in tokens]}, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="HF model directory")
    ap.add_argument("--tokens", help="comma-separated token ids")
    ap.add_argument("--tokens-file", help="JSON list of token ids (or a logits sidecar .json with 'tokens')")
    ap.add_argument("--out", help="output logits file (raw float32 [T, vocab]); FILE.json sidecar beside it")
    ap.add_argument("--compare", metavar="REF.f32",
                    help="compare with an existing logits file (tokens from its sidecar unless given)")
    ap.add_argument("--tol", type=float, help="with --compare: exit 1 when max |delta| exceeds this")
    ap.add_argument("--stats", action="store_true",
                    help="print diagnostics: logit spread and the smallest top-k router margin (p_k - p_k+1)")
    a = ap.parse_args()
    try:
        if a.tokens_file:
            tokens = read_tokens_file(a.tokens_file)
        elif a.tokens:
            tokens = [int(x) for x in a.tokens.split(",") if x.strip()]
        elif a.compare:
            tokens = read_tokens_file(a.compare + ".json")
        else:
            ap.error("give --tokens or --tokens-file (or --compare)")
        if not a.out and not a.compare:
            ap.error("give --out (or --compare)")
        cfg, logits = reference_logits(a.model, tokens)
        if a.out:
            write_logits(a.out, logits, tokens)
        if a.stats:
            rm = STATS.get("router_margin")
            print(f"T={len(tokens)} V={cfg['V']} logits: finite {bool(np.isfinite(logits).all())}, "
                  f"mean per-position std {logits.std(axis=1).mean():.3g}, range [{logits.min():.3g}, "
                  f"{logits.max():.3g}]; smallest router margin p_k - p_(k+1): "
                  + (f"{rm:.3g}" if rm is not None else "n/a (every expert is used)"))
        if a.compare:
            ref = np.fromfile(a.compare, dtype="<f4").astype(np.float64)
            if ref.size != logits.size:
                raise RefError(f"{a.compare}: {ref.size} values, expected {logits.size} ({list(logits.shape)})")
            ref = ref.reshape(logits.shape)
            dmax = float(np.max(np.abs(ref - logits)))
            d32 = float(np.max(np.abs(ref - logits.astype(np.float32))))
            agree = int(np.sum(ref.argmax(1) == logits.argmax(1)))
            print(f"{a.compare}: T={len(tokens)} V={cfg['V']} max|delta| = {dmax:.3g} "
                  f"(vs our float32-rounded logits {d32:.3g}), max|logit| = {np.max(np.abs(ref)):.3g}, "
                  f"argmax agreement {agree}/{len(tokens)}")
            if a.tol is not None and not dmax <= a.tol:
                sys.exit(1)
    except (RefError, OSError, KeyError, ValueError) as e:
        sys.exit(f"mmx_ref: {e}")


if __name__ == "__main__":
    main()
