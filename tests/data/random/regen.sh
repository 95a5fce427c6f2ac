#!/bin/sh
# Regenerates the random-model fixtures of this directory (see README.md). Run from the repository root:
#   sh tests/data/random/regen.sh
set -eu
PY=/usr/bin/python3
D=tests/data/random

rm -rf "$D/mixed-f16-sharded" "$D/native-dense-bf16"

# (a) original config names, pre-norm residual (postnorm false), unequal alphas/betas, 5 heads (ALiBi-style
#     slope fallback), one KV head, partial RoPE, 3 experts top-2, shared expert, f16 in 2 shards + index
$PY tools/make_random_model.py "$D/mixed-f16-sharded" --layers 5 --attn-types 0,1,0,0,1 --hidden 40 \
    --heads 5 --kv-heads 1 --head-dim 8 --rotary-dim 4 --experts 3 --top-k 2 --ffn 24 --shared-ffn 16 \
    --vocab 300 --postnorm false --alphas 1.7,1.3,1.1 --betas 0.9,1.2,0.8 --dtype F16 --shards 2 --seed 101

# (b) transformers-native config names, softmax every 4th layer, one expert (dense FFN), RoPE on the whole
#     head, rope_theta 1e7, bf16
$PY tools/make_random_model.py "$D/native-dense-bf16" --native-config --layers 9 --attn-types every:4 \
    --hidden 32 --heads 4 --kv-heads 2 --head-dim 16 --rotary-dim 16 --experts 1 --top-k 1 --ffn 40 \
    --vocab 257 --rope-theta 1e7 --dtype BF16 --seed 102

# float64 reference logits; tokens drawn by numpy's default_rng(T) in [0, vocab)
for m in mixed-f16-sharded native-dense-bf16; do
    V=$($PY -c "import json; print(json.load(open('$D/$m/config.json'))['vocab_size'])")
    for T in 40 300; do
        $PY -c "import json, numpy as np; print(json.dumps(np.random.default_rng($T).integers(0, $V, $T).tolist()))" \
            > "$D/$m/tokens-$T.json"
        $PY tools/mmx_ref.py "$D/$m" --tokens-file "$D/$m/tokens-$T.json" --out "$D/$m/logits-$T.f32"
        rm "$D/$m/tokens-$T.json"
    done
done
