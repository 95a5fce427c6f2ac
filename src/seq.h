/*
 * seq.h — per-sequence run state: lightning states and softmax KV cache (what defines the
 * sequence), and work buffers sized once at creation for n_batch tokens (so the forward pass never
 * allocates).
 */
#ifndef MMX_SEQ_H
#define MMX_SEQ_H

#include "model.h"
#include "ops.h"

/* Activation buffers for one internal step of up to n_batch tokens. */
typedef struct mmx_workspace {
    float *x;        /* [nb, H] residual stream h */
    float *u;        /* [nb, H] normed input of the current sub-layer */
    float *a;        /* [nb, H] sub-layer output */
    float *big;      /* [nb, max(3*nH*d, nH*d + 2*nKV*d)]: lightning qkv / softmax q|k|v */
    float *y;        /* [nb, nH*d] attention output */
    float *g;        /* [nb, nH*d] lightning output gate */
    float *router;   /* [nb, E] router probabilities */
    int32_t *top_e;  /* [nb, k] chosen experts */
    float *top_w;    /* [nb, k] their renormalised weights */
    int32_t *e_tok;  /* [nb*k] token index per slot, slots grouped by expert (experts ascending) */
    int32_t *e_slot; /* [nb*k] slot of (token t, choice j) at t*k + j */
    size_t *e_first; /* [E+1] first slot of each expert */
    float *xe;       /* [nb*k, H] gathered inputs, one row per slot */
    float *h1, *h3;  /* [nb, max(I, Is)] */
    float *oe;       /* [nb*k, H] expert outputs, one row per slot */
    float *coef;     /* [nb] shared-expert coefficient */
    float *thread_scratch_all;
    float **thread_scratch;
    size_t scratch_floats;
} mmx_workspace;

struct mmx_seq {
    mmx_model *model;
    size_t n_ctx, n_batch, n_past;
    bool step_mode;
    float *lstate;       /* [n_lightning_layers, nH, d, d] */
    float *kcache;       /* [n_softmax_layers, n_ctx, nKV*d] post-RoPE keys */
    float *vcache;       /* [n_softmax_layers, n_ctx, nKV*d] */
    size_t *slot;        /* per layer: index among its kind (lightning state / KV cache) */
    double *slopes;      /* [n_layers, nH] lightning decay rates s = base_h * factor_l (SPEC §4.2) */
    mmx_workspace ws;
    mmx_exec exec;
};

/* minimax01_forward.c: one internal step of T <= n_batch tokens at positions n_past.. .
 * logits (may be NULL) receives, for mode ALL, T rows; for LAST, the last row. */
void mmx_minimax01_forward(mmx_seq *seq, const int32_t *tokens, size_t T, mmx_logits_mode mode, float *logits);
/* Decay rates s_{l,h} (SPEC §4.2) into slopes[n_layers * nH]. */
void mmx_minimax01_slopes(const mmx_config *c, double *slopes);

#endif
