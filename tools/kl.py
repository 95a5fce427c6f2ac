#!/usr/bin/python3
"""Mean KL divergence KL(P_ref || P_test) over positions of two raw float32 logits files [T, V].

    /usr/bin/python3 tools/kl.py REF.f32 TEST.f32 VOCAB
"""
import sys

import numpy as np


def logsoftmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


ref, test, V = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = np.fromfile(ref, dtype="<f4").astype(np.float64).reshape(-1, V)
b = np.fromfile(test, dtype="<f4").astype(np.float64).reshape(-1, V)
la, lb = logsoftmax(a), logsoftmax(b)
kl = (np.exp(la) * (la - lb)).sum(axis=1)
top1 = (a.argmax(axis=1) == b.argmax(axis=1)).mean()
print(f"mean KL {kl.mean():.6f}  max KL {kl.max():.6f}  top-1 agreement {top1:.4f}  positions {len(kl)}")
