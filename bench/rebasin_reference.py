"""
An independent weight matching (Ainsworth et al., git re-basin, Algorithm 1) for
nn.Sequential MLPs, in PyTorch + SciPy: the reference ridgeline's `align --method weight`
is checked against. Written from the paper, not from ridgeline's code: the permutation of
hidden layer l acts on the rows of Linear l-1 (weight and bias) and the columns of Linear l.

  python3 bench/rebasin_reference.py A.safetensors B.safetensors --order 0,1,0,1,...

--order: the hidden layers in the order they are visited (ridgeline's seeded order, so both
follow the same coordinate-descent path); passes repeat until none improves.
Prints JSON: {"objective_before", "objective", "perms": {"h1": [...], ...}}.
"""
import argparse
import json
import os
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import read_safetensors  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('a')
    p.add_argument('b')
    p.add_argument('--order', required=True, help='comma-separated hidden-layer indices, pass after pass')
    args = p.parse_args()
    A = {k: v.double().numpy() for k, v in read_safetensors(args.a).items()}
    B = {k: v.double().numpy() for k, v in read_safetensors(args.b).items()}
    linears = sorted({int(k.split('.')[0]) for k in A}, key=int)
    Ws = [(f'{i}.weight', f'{i}.bias') for i in linears]
    hidden = len(Ws) - 1
    perms = [np.arange(A[Ws[l][0]].shape[0]) for l in range(hidden)]

    def permuted_b():
        out = {}
        for l, (w, b) in enumerate(Ws):
            W = B[w]
            if l < hidden:
                W = W[perms[l], :]
            if l > 0:
                W = W[:, perms[l - 1]]
            out[w] = W
            out[b] = B[b][perms[l]] if l < hidden else B[b]
        return out

    def objective():
        pb = permuted_b()
        return float(sum((A[k] * pb[k]).sum() for k in A))

    before = objective()
    order = [int(x) for x in args.order.split(',')] if args.order else []
    step = 0
    while True:
        improved = False
        for _ in range(hidden):
            l = order[step % len(order)]
            step += 1
            w_out, b_out = Ws[l]
            w_in = Ws[l + 1][0]
            # Rows of layer l (its inputs already permuted by layer l-1), columns of layer l+1
            # (its outputs permuted by layer l+1).
            Wb = B[w_out] if l == 0 else B[w_out][:, perms[l - 1]]
            Wn = B[w_in] if l + 1 == hidden else B[w_in][perms[l + 1], :]
            C = A[w_out] @ Wb.T + np.outer(A[b_out], B[b_out]) + A[w_in].T @ Wn
            _, cols = linear_sum_assignment(C, maximize=True)
            old = C[np.arange(len(cols)), perms[l]].sum()
            new = C[np.arange(len(cols)), cols].sum()
            if new > old + 1e-12 * max(1.0, abs(old)):
                perms[l] = cols
                improved = True
        if not improved or step > 100 * max(hidden, 1):
            break
    print(json.dumps({'objective_before': before, 'objective': objective(), 'perms': {f'h{l + 1}': perms[l].tolist() for l in range(hidden)}}))


if __name__ == '__main__':
    main()
