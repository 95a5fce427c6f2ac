#!/usr/bin/env bash
# Side-by-side speed and quality of mmx and llama.cpp on the same GGUF files.
#
#   tools/bench_compare.sh LLAMA_BUILD_DIR REFERENCE.gguf MODEL.gguf [MODEL.gguf ...]
#
# LLAMA_BUILD_DIR: a llama.cpp CMake build directory (with bin/llama-bench), built outside this
# repository.  REFERENCE.gguf: the unquantized model (BF16/F32) whose mmx logits (fp32 activations)
# are the quality reference.  For each MODEL: llama-bench and mmx bench, 2 threads, pp512, pp4096,
# tg128, median of REPS (default 5) repetitions; then mean KL divergence of each engine's logits on
# that file from the reference, over KL_SEQS (default 8) sequences of 256 seeded random tokens (the
# benchmark model has random weights, so one sequence's KL varies by +-30% with the draw; 4 sequences
# still left the BF16 comparison within noise: 0.0147 vs 0.0127 on seeds 1-4, 0.0137 vs 0.0166 on 5-8).
# Environment: REPS, THREADS, LLAMA_FLAGS (extra llama-bench flags), MMX_FLAGS (extra mmx bench flags,
# e.g. --block-size 64), MMX_ACT (mmx activation precision for the MODEL runs, see README; the
# reference logits always use fp32 activations), OUT (result directory).
set -euo pipefail
LB=${1:?llama.cpp build dir}; REF=${2:?reference gguf}; shift 2
REPS=${REPS:-5}; THREADS=${THREADS:-2}; OUT=${OUT:-/tmp/mmx-bench-compare}
here=$(cd "$(dirname "$0")/.." && pwd); MMX=$here/build/mmx
mkdir -p "$OUT"
dumper=$OUT/llama_dump_logits
if [ ! -x "$dumper" ]; then
    cc -O2 -I"$LB/../include" -I"$LB/../ggml/include" "$here/tools/llama_dump_logits.c" -L"$LB/bin" -lllama -lggml \
       -lggml-base -Wl,-rpath,"$LB/bin" -o "$dumper"
fi
vocab=$("$MMX" info -m "$REF" | awk '/^vocabulary/{print $2}')
KL_SEQS=${KL_SEQS:-8}
seq_tokens() { /usr/bin/python3 -c "import random; r=random.Random($1); print(','.join(str(r.randrange($vocab)) for _ in range(256)))"; }
: > "$OUT/ref.f32"
for s in $(seq 1 "$KL_SEQS"); do
    MMX_ACT=f32 "$MMX" logits -m "$REF" --tokens "$(seq_tokens "$s")" --out "$OUT/part.f32" > /dev/null
    cat "$OUT/part.f32" >> "$OUT/ref.f32"
done
cpu=$(awk -F': ' '/^cpu family/{f=$2} /^model\t/{m=$2} /^model name/{n=$2} END{printf "%s, family %s model %s", n, f, m}' /proc/cpuinfo)
echo "# $(date -u) $(nproc) cores ($cpu); mmx $(git -C "$here" rev-parse --short HEAD) MMX_ACT=${MMX_ACT:-default} ${MMX_FLAGS:-}; llama.cpp $LB ${LLAMA_FLAGS:-}"
echo "| model | engine | pp512 t/s | pp4096 t/s | tg128 t/s | tg roofline | mean KL vs reference |"
echo "|---|---|---|---|---|---|---|"
for m in "$@"; do
    name=$(basename "$m" .gguf)
    lj=$("$LB/bin/llama-bench" -m "$m" -p 512,4096 -n 128 -t "$THREADS" -r "$REPS" ${LLAMA_FLAGS:-} -o json 2>/dev/null)
    lpp512=$(echo "$lj" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print([round(x['avg_ts'],1) for x in d if x['n_prompt']==512][0])")
    lpp4096=$(echo "$lj" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print([round(x['avg_ts'],1) for x in d if x['n_prompt']==4096][0])")
    ltg=$(echo "$lj" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print([round(x['avg_ts'],1) for x in d if x['n_gen']==128][0])")
    mj=$("$MMX" bench -m "$m" -p 512,4096 -n 128 -t "$THREADS" -r "$REPS" ${MMX_FLAGS:-} --json)
    mpp512=$(echo "$mj" | /usr/bin/python3 -c "import json,sys; print([round(json.loads(l)['tokens_per_s'],1) for l in sys.stdin if json.loads(l)['test']=='pp512'][0])")
    mpp4096=$(echo "$mj" | /usr/bin/python3 -c "import json,sys; print([round(json.loads(l)['tokens_per_s'],1) for l in sys.stdin if json.loads(l)['test']=='pp4096'][0])")
    mtg=$(echo "$mj" | /usr/bin/python3 -c "import json,sys; print([round(json.loads(l)['tokens_per_s'],1) for l in sys.stdin if json.loads(l)['test']=='tg128'][0])")
    mroof=$(echo "$mj" | /usr/bin/python3 -c "import json,sys; print([round(100*json.loads(l)['roofline_fraction'],1) for l in sys.stdin if json.loads(l)['test']=='tg128'][0])")
    # share of the weights in 2 MiB pages when mmx ran (llama-bench just ran on the same file)
    mhuge=$(echo "$mj" | /usr/bin/python3 -c "import json,sys; print([round(100*json.loads(l)['huge_fraction']) for l in sys.stdin if json.loads(l)['test']=='tg128'][0])")
    : > "$OUT/$name.mmx.f32"; : > "$OUT/$name.llama.f32"
    for s in $(seq 1 "$KL_SEQS"); do
        "$MMX" logits -m "$m" --tokens "$(seq_tokens "$s")" --out "$OUT/part.f32" > /dev/null
        cat "$OUT/part.f32" >> "$OUT/$name.mmx.f32"
        "$dumper" "$m" "$(seq_tokens "$s")" "$OUT/part.f32" ${LLAMA_DUMP_FLAGS:-} 2>/dev/null
        cat "$OUT/part.f32" >> "$OUT/$name.llama.f32"
    done
    mkl=$(/usr/bin/python3 "$here/tools/kl.py" "$OUT/ref.f32" "$OUT/$name.mmx.f32" "$vocab")
    lkl=$(/usr/bin/python3 "$here/tools/kl.py" "$OUT/ref.f32" "$OUT/$name.llama.f32" "$vocab")
    echo "| $name | llama.cpp | $lpp512 | $lpp4096 | $ltg | | ${lkl#mean KL } |"
    echo "| $name | mmx | $mpp512 | $mpp4096 | $mtg | $mroof% (2 MiB pages: $mhuge%) | ${mkl#mean KL } |"
done
