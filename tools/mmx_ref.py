#!/usr/bin/python3
"""Float64 reference forward pass of the MiniMax-01 family, written from SPEC.md (independent of the C
engine), for testing it on models the golden files do not cover.

    /usr/bin/python3 tools/mmx_ref.py MODEL_DIR --tokens 1,2,3 --out logits.f32

MODEL_DIR is an HF directory (config.json with original or transformers-native field names, one or many
.safetensors, F32/F16/BF16).  Writes raw little-endian float32 [T, vocab] logits of every position and a
.json sidecar {"shape", "dtype", "tokens"}.  Lightning attention uses the token-by-token recurrence
(SPEC §4.3), which defines the model.  Top-k ties go to the lower expert index.
"""
import argparse
import glob
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmx_st  # noqa: E402


def load_config(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    native = "layer_types" in c or c.get("model_type") == "minimax"

    def pick(orig, nat, default):
        if c.get(orig) is not None:
            return c[orig]
        if c.get(nat) is not None:
            return c[nat]
        return default

    L = c["num_hidden_layers"]
    nH = c["num_attention_heads"]
    cfg = {
        "L": L,
        "H": c["hidden_size"],
        "nH": nH,
        "nKV": c.get("num_key_value_heads") or nH,
        "d": c.get("head_dim") or c["hidden_size"] // nH,
        "I": c["intermediate_size"],
        "E": c.get("num_local_experts") or 1,
        "k": c.get("num_experts_per_tok") or 1,
        "Is": c.get("shared_intermediate_size") or 0,
        "V": c["vocab_size"],
        "eps": c.get("rms_norm_eps") or 1e-5,
        "alpha_lin": pick("layernorm_linear_attention_alpha", "linear_attn_alpha_factor", 1.0),
        "beta_lin": pick("layernorm_linear_attention_beta", "linear_attn_beta_factor", 1.0),
        "alpha_full": pick("layernorm_full_attention_alpha", "full_attn_alpha_factor", 1.0),
        "beta_full": pick("layernorm_full_attention_beta", "full_attn_beta_factor", 1.0),
        "alpha_mlp": pick("layernorm_mlp_alpha", "mlp_alpha_factor", 1.0),
        "beta_mlp": pick("layernorm_mlp_beta", "mlp_beta_factor", 1.0),
        "postnorm": c["postnorm"] if "postnorm" in c else native,
        "tied": bool(c.get("tie_word_embeddings", False)),
    }
    cfg["rot"] = c["rotary_dim"] if c.get("rotary_dim") is not None else round(c.get("partial_rotary_factor", 1.0) * cfg["d"])
    rp = c.get("rope_parameters")
    cfg["theta"] = rp["rope_theta"] if isinstance(rp, dict) and "rope_theta" in rp else c.get("rope_theta", 10000.0)
    if c.get("attn_type_list") is not None:
        cfg["softmax"] = [int(x) == 1 for x in c["attn_type_list"]]
    elif c.get("layer_types") is not None:
        cfg["softmax"] = [x == "full_attention" for x in c["layer_types"]]
    else:
        cfg["softmax"] = [(i + 1) % 8 == 0 for i in range(L)]
    return cfg


def load_weights(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        files = [os.path.join(d, x) for x in files]
    else:
        files = sorted(glob.glob(os.path.join(d, "*.safetensors")))
    w = {}
    for p in files:
        w.update(mmx_st.read(p))
    return w


def slopes_base(n):
    """[ORIG] _build_slope_tensor (SPEC §4.2)."""

    def pow2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return pow2(n)
    p = 2 ** math.floor(math.log2(n))
    return pow2(p) + slopes_base(2 * p)[0::2][: n - p]


def rmsnorm(x, g, eps):
    return g * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(cfg, W, tokens):
    L, H, nH, nKV, d, rot = cfg["L"], cfg["H"], cfg["nH"], cfg["nKV"], cfg["d"], cfg["rot"]
    T = len(tokens)
    base = np.array(slopes_base(nH))
    h = W["model.embed_tokens.weight"][np.array(tokens)]
    pos = np.arange(T, dtype=np.float64)
    half = rot // 2
    inv = cfg["theta"] ** (-2.0 * np.arange(half) / rot) if rot else np.zeros(0)
    ang = pos[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(x):  # x [T, heads, d]
        if rot == 0:
            return x
        x = x.copy()
        a, b = x[:, :, :half].copy(), x[:, :, half:rot].copy()
        x[:, :, :half] = a * cos[:, None, :] - b * sin[:, None, :]
        x[:, :, half:rot] = b * cos[:, None, :] + a * sin[:, None, :]
        return x

    for l in range(L):
        p = f"model.layers.{l}."
        u = rmsnorm(h, W[p + "input_layernorm.weight"], cfg["eps"])
        if cfg["softmax"][l]:
            q = rope((u @ W[p + "self_attn.q_proj.weight"].T).reshape(T, nH, d))
            k = rope((u @ W[p + "self_attn.k_proj.weight"].T).reshape(T, nKV, d))
            v = (u @ W[p + "self_attn.v_proj.weight"].T).reshape(T, nKV, d)
            g = nH // nKV
            o = np.zeros((T, nH, d))
            mask = np.tril(np.ones((T, T), dtype=bool))
            for hh in range(nH):
                s = q[:, hh, :] @ k[:, hh // g, :].T / math.sqrt(d)
                s = np.where(mask, s, -np.inf)
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                o[:, hh, :] = s @ v[:, hh // g, :]
            a = o.reshape(T, nH * d) @ W[p + "self_attn.o_proj.weight"].T
            alpha, beta = cfg["alpha_full"], cfg["beta_full"]
        else:
            z = silu(u @ W[p + "self_attn.qkv_proj.weight"].T).reshape(T, nH, 3 * d)
            q, k, v = z[:, :, :d], z[:, :, d : 2 * d], z[:, :, 2 * d :]
            factor = 1 + 1e-5 if L <= 1 else 1 - l / (L - 1) + 1e-5
            lam = np.exp(-base * factor)  # [nH]
            S = np.zeros((nH, d, d))
            o = np.zeros((T, nH, d))
            for t in range(T):
                S = lam[:, None, None] * S + k[t][:, :, None] * v[t][:, None, :]
                o[t] = np.einsum("hi,hij->hj", q[t], S)
            y = rmsnorm(o.reshape(T, nH * d), W[p + "self_attn.norm.weight"], 1e-6)
            y = sigmoid(u @ W[p + "self_attn.output_gate.weight"].T) * y
            a = y @ W[p + "self_attn.out_proj.weight"].T
            alpha, beta = cfg["alpha_lin"], cfg["beta_lin"]
        h = alpha * (u if cfg["postnorm"] else h) + beta * a
        v_ = rmsnorm(h, W[p + "post_attention_layernorm.weight"], cfg["eps"])
        m = moe(cfg, W, p, v_)
        h = cfg["alpha_mlp"] * (v_ if cfg["postnorm"] else h) + cfg["beta_mlp"] * m
    hf = rmsnorm(h, W["model.norm.weight"], cfg["eps"])
    head = W["model.embed_tokens.weight"] if cfg["tied"] else W["lm_head.weight"]
    return hf @ head.T


def moe(cfg, W, p, v):
    T, E, k = v.shape[0], cfg["E"], cfg["k"]
    if p + "block_sparse_moe.gate.weight" in W:
        router = W[p + "block_sparse_moe.gate.weight"]
        experts = [
            (W[p + f"block_sparse_moe.experts.{e}.w1.weight"], W[p + f"block_sparse_moe.experts.{e}.w3.weight"],
             W[p + f"block_sparse_moe.experts.{e}.w2.weight"]) for e in range(E)
        ]
    else:  # transformers-native fused layout
        router = W[p + "mlp.gate.weight"]
        gu, dn, I = W[p + "mlp.experts.gate_up_proj"], W[p + "mlp.experts.down_proj"], cfg["I"]
        experts = [(gu[e, :I], gu[e, I:], dn[e]) for e in range(E)]
    logits = v @ router.T
    pr = np.exp(logits - logits.max(axis=1, keepdims=True))
    pr /= pr.sum(axis=1, keepdims=True)
    out = np.zeros_like(v)
    for t in range(T):
        top = np.argsort(-pr[t], kind="stable")[:k]
        w = pr[t, top] / pr[t, top].sum()
        for e, we in zip(top, w):
            w1, w3, w2 = experts[e]
            out[t] += we * (w2 @ (silu(w1 @ v[t]) * (w3 @ v[t])))
    if cfg["Is"]:
        c = sigmoid(v @ W[p + "block_sparse_moe.coefficient.weight"].T)  # [T, 1]
        sh = (silu(v @ W[p + "block_sparse_moe.shared_mlp.gate_proj.weight"].T) *
              (v @ W[p + "block_sparse_moe.shared_mlp.up_proj.weight"].T)) @ W[p + "block_sparse_moe.shared_mlp.down_proj.weight"].T
        out = out * (1 - c) + sh * c
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--tokens", help="comma-separated ids")
    ap.add_argument("--tokens-file", help="JSON list of ids")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.tokens_file:
        with open(a.tokens_file) as f:
            tokens = json.load(f)
    else:
        tokens = [int(x) for x in a.tokens.split(",") if x.strip()]
    cfg = load_config(a.model)
    logits = forward(cfg, load_weights(a.model), tokens)
    logits.astype("<f4").tofile(a.out)
    with open(a.out + ".json", "w") as f:
        json.dump({"shape": [len(tokens), cfg["V"]], "dtype": "float32", "tokens": tokens}, f)


if __name__ == "__main__":
    main()
