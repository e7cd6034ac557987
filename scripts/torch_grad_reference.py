#!/usr/bin/python3
"""Whole-network gradient reference for the normlab "seed" model (comparison tool only).

Deterministic setup, so the C++ engine can rebuild it without reading weights:
  - parameter k (index in state_dict order, parameters only; BN running stats
    keep their defaults 0/1 and do not affect a train-mode forward):
        w.flat[i] = 0.1 * sin(i * 0.37 + k)
  - dropout disabled (p = 0), BatchNorm in train mode (batch statistics)
  - input x of shape (4, 3, 32, 32): x.flat[i] = sin(i * 0.01); labels [0, 1, 2, 3]
  - loss = mean NLL of log_softmax

Writes to --out (all float32 .npy): x.npy, y.npy (int64), loss.npy (shape (1,)),
grad_<state_dict key>.npy for every parameter, and the initial weights in the
normlab-weights format (manifest.json + <key>.npy, as torch_reference.py
--export-weights) so they can also be loaded directly.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import NORMS, build_model, export_weights  # noqa: E402


def deterministic_init(model):
    with torch.no_grad():
        k = 0
        for key, t in model.state_dict().items():
            if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
                continue
            i = torch.arange(t.numel(), dtype=torch.float64)
            t.copy_((0.1 * torch.sin(i * 0.37 + k)).view(t.shape).to(t.dtype))
            k += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--norm", choices=NORMS, default="batch")
    ap.add_argument("--out", required=True, metavar="DIR")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="compute precision (outputs are always saved as float32)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)

    model = build_model(args.norm, dropout=0.0)
    deterministic_init(model)
    os.makedirs(args.out, exist_ok=True)
    export_weights(model, args.out)  # float32 copy of the initial weights + manifest.json
    model = model.to(dtype)
    model.train()

    n = 4 * 3 * 32 * 32
    x = torch.sin(torch.arange(n, dtype=torch.float64) * 0.01).view(4, 3, 32, 32).to(dtype)
    y = torch.tensor([0, 1, 2, 3], dtype=torch.int64)
    loss = F.nll_loss(model(x), y)
    loss.backward()

    def save(name, arr):
        np.save(os.path.join(args.out, name), np.ascontiguousarray(arr))

    save("x.npy", x.numpy().astype(np.float32))
    save("y.npy", y.numpy())
    save("loss.npy", np.array([loss.item()], dtype=np.float32))
    names = []
    for key, p in model.named_parameters():
        save("grad_%s.npy" % key, p.grad.numpy().astype(np.float32))
        names.append(key)
    with open(os.path.join(args.out, "grads.json"), "w") as f:
        json.dump({"norm": args.norm, "dtype": args.dtype, "loss": loss.item(),
                   "grads": ["grad_%s.npy" % k for k in names]}, f, indent=1)
    print("norm=%s loss=%.9f grads=%d -> %s" % (args.norm, loss.item(), len(names), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
