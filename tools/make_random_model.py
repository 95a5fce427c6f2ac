#!/usr/bin/python3
"""Random MiniMax-01-family models in the HF layout, of any shape, for tests.

    /usr/bin/python3 tools/make_random_model.py OUT_DIR [--layers 5 --hidden 40 --heads 5 ...] [--seed S]

Writes config.json (original field names, or the transformers-native ones with --native-config) and the
weights as F32/F16/BF16 safetensors, optionally sharded with model.safetensors.index.json.  Weight scales
follow the shared golden models (matrices ~ 1/sqrt(fan_in), norms 1 + 0.1 N(0,1), embedding N(0,1)), so
activations stay O(1) and logits have a spread of a few units.  Deterministic for a given --seed.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmx_st  # noqa: E402


def parse_attn_types(spec, L):
    if spec.startswith("every:"):
        n = int(spec.split(":")[1])
        return [1 if (i + 1) % n == 0 else 0 for i in range(L)]
    v = [int(x) for x in spec.split(",")]
    if len(v) != L:
        sys.exit(f"--attn-types has {len(v)} entries for {L} layers")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=16)
    ap.add_argument("--rotary-dim", type=int, default=8)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=48)
    ap.add_argument("--shared-ffn", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--attn-types", default="every:8", help='"0,0,1,..." or "every:N"')
    ap.add_argument("--alphas", default="2.0,2.0,2.0", help="linear,full,mlp")
    ap.add_argument("--betas", default="1.0,1.0,1.0", help="linear,full,mlp")
    ap.add_argument("--postnorm", default="true", choices=["true", "false"])
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--native-config", action="store_true")
    ap.add_argument("--tie-embeddings", action="store_true")
    ap.add_argument("--tokenizer", help="tokenizer.json to copy in (with tokenizer_config.json beside it)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    L, H, nH, nKV, d, E, I, V = a.layers, a.hidden, a.heads, a.kv_heads, a.head_dim, a.experts, a.ffn, a.vocab
    D = nH * d
    types = parse_attn_types(a.attn_types, L)
    al = [float(x) for x in a.alphas.split(",")]
    be = [float(x) for x in a.betas.split(",")]

    # float32 draws keep multi-GB benchmark models within memory
    def mat(rows, cols, gain=1.0):
        return rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(gain / np.sqrt(cols))

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
            W[p + "self_attn.qkv_proj.weight"] = mat(3 * D, H)
            W[p + "self_attn.output_gate.weight"] = mat(D, H)
            W[p + "self_attn.norm.weight"] = norm(D)
            W[p + "self_attn.out_proj.weight"] = mat(H, D)
        W[p + "block_sparse_moe.gate.weight"] = mat(E, H, 2.0)
        for e in range(E):
            W[p + f"block_sparse_moe.experts.{e}.w1.weight"] = mat(I, H)
            W[p + f"block_sparse_moe.experts.{e}.w3.weight"] = mat(I, H)
            W[p + f"block_sparse_moe.experts.{e}.w2.weight"] = mat(H, I, 2.0)
        if a.shared_ffn:
            W[p + "block_sparse_moe.shared_mlp.gate_proj.weight"] = mat(a.shared_ffn, H)
            W[p + "block_sparse_moe.shared_mlp.up_proj.weight"] = mat(a.shared_ffn, H)
            W[p + "block_sparse_moe.shared_mlp.down_proj.weight"] = mat(H, a.shared_ffn, 2.0)
            W[p + "block_sparse_moe.coefficient.weight"] = mat(1, H)
    W["model.norm.weight"] = norm(H)
    if not a.tie_embeddings:
        W["lm_head.weight"] = mat(V, H, 2.0)

    cfg = {
        "architectures": ["MiniMaxText01ForCausalLM"],
        "model_type": "minimax_text_01",
        "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": nH, "num_key_value_heads": nKV,
        "head_dim": d, "rotary_dim": a.rotary_dim, "intermediate_size": I, "num_local_experts": E,
        "num_experts_per_tok": a.top_k, "shared_intermediate_size": a.shared_ffn, "vocab_size": V,
        "rms_norm_eps": a.rms_eps, "hidden_act": "silu", "tie_word_embeddings": a.tie_embeddings,
        "max_position_embeddings": 1 << 20,
    }
    if a.native_config:
        if a.postnorm != "true":
            sys.exit("--native-config implies postnorm (the native port hard-codes it)")
        cfg.update({
            "architectures": ["MiniMaxForCausalLM"], "model_type": "minimax",
            "layer_types": ["full_attention" if t else "linear_attention" for t in types],
            "linear_attn_alpha_factor": al[0], "full_attn_alpha_factor": al[1], "mlp_alpha_factor": al[2],
            "linear_attn_beta_factor": be[0], "full_attn_beta_factor": be[1], "mlp_beta_factor": be[2],
            "rope_parameters": {"rope_theta": a.rope_theta, "rope_type": "default"}, "block_size": 256,
        })
    else:
        cfg.update({
            "attn_type_list": types, "postnorm": a.postnorm == "true", "rope_theta": a.rope_theta,
            "layernorm_linear_attention_alpha": al[0], "layernorm_full_attention_alpha": al[1],
            "layernorm_mlp_alpha": al[2], "layernorm_linear_attention_beta": be[0],
            "layernorm_full_attention_beta": be[1], "layernorm_mlp_beta": be[2],
        })
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    names = list(W)
    if a.shards <= 1:
        mmx_st.write(os.path.join(a.out, "model.safetensors"), W, a.dtype)
    else:
        weight_map = {}
        for s in range(a.shards):
            part = names[s::a.shards]
            fn = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
            mmx_st.write(os.path.join(a.out, fn), {n: W[n] for n in part}, a.dtype)
            weight_map.update({n: fn for n in part})
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)
    if a.tokenizer:
        shutil.copy(a.tokenizer, os.path.join(a.out, "tokenizer.json"))
        tc = os.path.join(os.path.dirname(a.tokenizer), "tokenizer_config.json")
        if os.path.exists(tc):
            shutil.copy(tc, os.path.join(a.out, "tokenizer_config.json"))


if __name__ == "__main__":
    main()
