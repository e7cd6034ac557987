#!/usr/bin/python3
"""PyTorch reference for the normlab "seed" CNN experiment (comparison tool only).

Not a dependency of normlab: it exists to time PyTorch against the C++ trainer
on the same CPU and to cross-check weights exported by either side.

Model "seed" (35,504 parameters for every --norm):
  block(ci, co)     = Conv3x3(ci, co, pad 1, no bias) -> ReLU -> norm(co) -> Dropout(0.05)
  transition(ci, co) = Conv1x1(ci, co, pad 0, no bias)   (no ReLU / norm / dropout)
  block(3,16) block(16,16) transition(16,10) maxpool2
  block(10,16) block(16,16) block(16,32) transition(32,16) maxpool2
  block(16,32) block(32,32) block(32,32)
  global avg pool -> Conv1x1(32,10, no bias) -> log_softmax ; loss = NLL
The 1x1 transitions carry no norm: with a norm on them the count would be
35,556 (and GroupNorm(4, 10) would be impossible).

Weight directory format (--export-weights / --import-weights):
  manifest.json {"format": "normlab-weights", "version": 1,
                 "tensors": [{"name", "shape", "file"}, ...]}
  one float32 .npy per tensor, in the model's state_dict order (parameters and
  BatchNorm running stats; num_batches_tracked skipped). Import maps tensors by
  manifest ORDER, not name, so weights named by the C++ trainer load as well.
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

EXPECTED_PARAMS = 35504
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.247, 0.243, 0.261)
NORMS = ("batch", "group", "layer", "instance", "none")
SEED_GROUPS = 4


# ----------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------

def make_norm(kind, channels, groups=SEED_GROUPS):
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(groups, channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":  # GroupNorm with one channel per group, as normlab's InstanceNorm
        return nn.GroupNorm(channels, channels)
    if kind == "none":  # the control: no layer, no parameters
        return nn.Identity()
    raise ValueError("unknown norm %r" % kind)


def block(cin, cout, norm, dropout, groups=SEED_GROUPS):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.ReLU(),
        make_norm(norm, cout, groups),
        nn.Dropout(dropout),
    )


def transition(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 1, padding=0, bias=False))


class SeedNet(nn.Module):
    def __init__(self, norm="batch", dropout=0.05, groups=SEED_GROUPS):
        super().__init__()
        self.c1 = block(3, 16, norm, dropout, groups)
        self.c2 = block(16, 16, norm, dropout, groups)
        self.t1 = transition(16, 10)
        self.p1 = nn.MaxPool2d(2, 2)
        self.c3 = block(10, 16, norm, dropout, groups)
        self.c4 = block(16, 16, norm, dropout, groups)
        self.c5 = block(16, 32, norm, dropout, groups)
        self.t2 = transition(32, 16)
        self.p2 = nn.MaxPool2d(2, 2)
        self.c6 = block(16, 32, norm, dropout, groups)
        self.c7 = block(32, 32, norm, dropout, groups)
        self.c8 = block(32, 32, norm, dropout, groups)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Conv2d(32, 10, 1, padding=0, bias=False)

    def forward(self, x):
        x = self.p1(self.t1(self.c2(self.c1(x))))
        x = self.p2(self.t2(self.c5(self.c4(self.c3(x)))))
        x = self.c8(self.c7(self.c6(x)))
        x = self.head(self.gap(x))
        return F.log_softmax(x.flatten(1), dim=1)


def build_model(norm, dropout=0.05, groups=SEED_GROUPS, init="default"):
    model = SeedNet(norm, dropout, groups)
    n = count_params(model)
    # Without norms, eight blocks' scales and shifts fewer: 2 x (4 x 16 + 4 x 32) = 384.
    expected = EXPECTED_PARAMS - (384 if norm == "none" else 0)
    assert n == expected, "seed model has %d parameters, expected %d" % (n, expected)
    if init == "he":  # as normlab's --init he: Kaiming normal, ReLU's gain, fan-in
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return model


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def exported_items(model):
    """state_dict entries in order, without num_batches_tracked."""
    return [(k, v) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]


# ----------------------------------------------------------------------------
# Weight export / import
# ----------------------------------------------------------------------------

def export_weights(model, out_dir, prefix=""):
    os.makedirs(out_dir, exist_ok=True)
    tensors = []
    for name, t in exported_items(model):
        fname = prefix + name + ".npy"
        arr = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))
        np.save(os.path.join(out_dir, fname), arr)
        tensors.append({"name": name, "shape": list(arr.shape), "file": fname})
    manifest = {"format": "normlab-weights", "version": 1, "tensors": tensors}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def import_weights(model, in_dir):
    path = os.path.join(in_dir, "manifest.json")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("import-weights: cannot read %s: %s" % (path, e))
    if manifest.get("format") != "normlab-weights" or manifest.get("version") != 1:
        raise SystemExit("import-weights: %s is not a normlab-weights version 1 manifest "
                         "(format=%r, version=%r)" % (path, manifest.get("format"), manifest.get("version")))
    entries = manifest.get("tensors", [])
    targets = exported_items(model)
    if len(entries) != len(targets):
        expected = "\n".join("  %d: %s %s" % (i, k, list(v.shape)) for i, (k, v) in enumerate(targets))
        raise SystemExit("import-weights: manifest lists %d tensors, the %s model expects %d "
                         "(in this order):\n%s" % (len(entries), model_norm(model), len(targets), expected))
    new_state = {}
    for i, (entry, (key, cur)) in enumerate(zip(entries, targets)):
        fpath = os.path.join(in_dir, entry["file"])
        try:
            arr = np.load(fpath)
        except (OSError, ValueError) as e:
            raise SystemExit("import-weights: tensor %d (%s): cannot load %s: %s" % (i, entry.get("name"), fpath, e))
        mshape = tuple(entry.get("shape", arr.shape))
        if tuple(arr.shape) != mshape:
            raise SystemExit("import-weights: tensor %d (%s): file %s has shape %s but manifest says %s"
                             % (i, entry.get("name"), entry["file"], list(arr.shape), list(mshape)))
        if tuple(arr.shape) != tuple(cur.shape):
            raise SystemExit("import-weights: tensor %d: manifest %r has shape %s but model tensor %r has shape %s"
                             % (i, entry.get("name"), list(arr.shape), key, list(cur.shape)))
        if arr.dtype != np.float32:
            raise SystemExit("import-weights: tensor %d (%s): dtype %s, expected float32"
                             % (i, entry.get("name"), arr.dtype))
        new_state[key] = torch.from_numpy(arr.copy()).to(cur.dtype)
    model.load_state_dict(new_state, strict=False)
    return manifest


def model_norm(model):
    m = model.c1[2]
    if isinstance(m, nn.BatchNorm2d):
        return "batch"
    if isinstance(m, nn.Identity):
        return "none"
    if m.num_groups == m.num_channels:
        return "instance"
    return "layer" if m.num_groups == 1 else "group"


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------

def load_cifar_bin(path, limit=None):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073:
        raise SystemExit("%s: size %d is not a multiple of 3073" % (path, raw.size))
    raw = raw.reshape(-1, 3073)
    if limit is not None:
        raw = raw[:limit]
    labels = raw[:, 0].astype(np.int64)
    images = raw[:, 1:].reshape(-1, 3, 32, 32)  # CHW uint8
    return images, labels


def load_split(data_dir, train, limit=None):
    names = ["data_batch_%d.bin" % i for i in range(1, 6)] if train else ["test_batch.bin"]
    xs, ys, have = [], [], 0
    for name in names:
        if limit is not None and have >= limit:
            break
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            raise SystemExit("missing CIFAR-10 file %s" % path)
        x, y = load_cifar_bin(path, None if limit is None else limit - have)
        xs.append(x)
        ys.append(y)
        have += len(y)
    return np.concatenate(xs), np.concatenate(ys)


def normalize(x):
    mean = torch.tensor(MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def to_float(images_u8):
    """ToTensor on a batch of CHW uint8 images."""
    return torch.from_numpy(np.ascontiguousarray(images_u8)).float().div_(255.0)


class TorchvisionTrain:
    """The course's exact pipeline: PIL image -> torchvision transforms, one image at a time."""

    def __init__(self):
        import torchvision.transforms as T
        from PIL import Image
        self.Image = Image
        self.tf = T.Compose([
            T.RandomHorizontalFlip(),
            T.RandomCrop(32, padding=4),
            T.ColorJitter(0.2, 0.2, 0.2),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ])

    def __call__(self, images_u8):
        out = [self.tf(self.Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0)))) for img in images_u8]
        return torch.stack(out)


def _gray(x):
    # ITU-R 601-2 luma, as torchvision's rgb_to_grayscale; x: (..., 3, H, W)
    return (0.299 * x[..., 0:1, :, :] + 0.587 * x[..., 1:2, :, :] + 0.114 * x[..., 2:3, :, :])


class ManualTrain:
    """Hand-written, batched equivalent of the torchvision pipeline (tensor semantics)."""

    def __call__(self, images_u8):
        x = to_float(images_u8)
        n = x.shape[0]
        # RandomHorizontalFlip(p=0.5)
        flip = torch.rand(n) < 0.5
        x[flip] = x[flip].flip(-1)
        # RandomCrop(32, padding=4), zero fill
        padded = F.pad(x, (4, 4, 4, 4))
        ii = torch.randint(0, 9, (n,))
        jj = torch.randint(0, 9, (n,))
        x = torch.stack([padded[k, :, ii[k]:ii[k] + 32, jj[k]:jj[k] + 32] for k in range(n)])
        # ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2), random order per image
        for k in range(n):
            img = x[k]
            for op in torch.randperm(3).tolist():
                f = float(torch.empty(1).uniform_(0.8, 1.2))
                if op == 0:
                    img = (img * f).clamp_(0, 1)
                elif op == 1:
                    m = _gray(img).mean()
                    img = (f * img + (1 - f) * m).clamp_(0, 1)
                else:
                    img = (f * img + (1 - f) * _gray(img)).clamp_(0, 1)
            x[k] = img
        return normalize(x)


def make_train_transform(kind):
    if kind in ("auto", "torchvision"):
        try:
            return "torchvision", TorchvisionTrain()
        except ImportError:
            if kind == "torchvision":
                raise SystemExit("--transforms torchvision: torchvision (or PIL) is not installed")
    return "manual", ManualTrain()


# ----------------------------------------------------------------------------
# Train / eval
# ----------------------------------------------------------------------------

def train_epoch(model, opt, images, labels, transform, batch_size, gen):
    model.train()
    n = len(labels)
    order = torch.randperm(n, generator=gen).numpy()
    loss_sum, correct = 0.0, 0
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        x = transform(images[idx])
        y = torch.from_numpy(labels[idx])
        opt.zero_grad()
        out = model(x)
        loss = F.nll_loss(out, y)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(idx)
        correct += (out.argmax(1) == y).sum().item()
    return loss_sum / n, correct / n


@torch.no_grad()
def evaluate(model, x_all, y_all, batch_size=1000):
    model.eval()
    n = len(y_all)
    loss_sum, correct = 0.0, 0
    for start in range(0, n, batch_size):
        x = x_all[start:start + batch_size]
        y = y_all[start:start + batch_size]
        out = model(x)
        loss_sum += F.nll_loss(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
    return loss_sum / n, correct / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "cifar-10-batches-bin"), help="CIFAR-10 binary directory (default: ../shared beside the checkout)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--norm", choices=NORMS, default="batch")
    ap.add_argument("--groups", type=int, default=SEED_GROUPS, help="GroupNorm's groups")
    ap.add_argument("--init", choices=("default", "he"), default="default")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    ap.add_argument("--limit", type=int, default=None, help="train on the first N images")
    ap.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test images")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--transforms", choices=("auto", "torchvision", "manual"), default="auto",
                    help="train augmentation: torchvision per-image PIL pipeline (auto: if installed) "
                         "or a hand-written batched torch equivalent")
    ap.add_argument("--json", default=None, help="write per-epoch metrics and totals to FILE")
    ap.add_argument("--export-weights", default=None, metavar="DIR")
    ap.add_argument("--import-weights", default=None, metavar="DIR")
    ap.add_argument("--eval-only", action="store_true", help="only evaluate on the test set and print JSON")
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)

    model = build_model(args.norm, groups=args.groups, init=args.init)
    if args.import_weights:
        import_weights(model, args.import_weights)

    test_x_u8, test_y = load_split(args.data, False, args.test_limit)
    test_x = normalize(to_float(test_x_u8))
    test_y = torch.from_numpy(test_y)

    if args.eval_only:
        t0 = time.perf_counter()
        loss, acc = evaluate(model, test_x, test_y)
        result = {"norm": args.norm, "params": count_params(model), "test_images": len(test_y),
                  "test_loss": loss, "test_accuracy": acc, "seconds": time.perf_counter() - t0,
                  "weights": args.import_weights}
        print(json.dumps(result))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        if args.export_weights:
            export_weights(model, args.export_weights)
        return 0

    train_x, train_y = load_split(args.data, True, args.limit)
    tf_name, transform = make_train_transform(args.transforms)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    gen = torch.Generator().manual_seed(args.seed)

    print("# norm=%s params=%d train=%d test=%d threads=%d transforms=%s torch=%s"
          % (args.norm, count_params(model), len(train_y), len(test_y), torch.get_num_threads(),
             tf_name, torch.__version__), flush=True)
    epochs = []
    t_all = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        tr_loss, tr_acc = train_epoch(model, opt, train_x, train_y, transform, args.batch_size, gen)
        te_loss, te_acc = evaluate(model, test_x, test_y)
        secs = time.perf_counter() - t0
        epochs.append({"epoch": epoch, "train_loss": tr_loss, "train_accuracy": tr_acc,
                       "test_loss": te_loss, "test_accuracy": te_acc, "seconds": secs})
        print("epoch %d loss %.4f accuracy %.4f test_loss %.4f test_accuracy %.4f seconds %.2f"
              % (epoch, tr_loss, tr_acc, te_loss, te_acc, secs), flush=True)
    total = time.perf_counter() - t_all

    if args.json:
        result = {"norm": args.norm, "params": count_params(model), "train_images": len(train_y),
                  "test_images": len(test_y), "threads": torch.get_num_threads(), "transforms": tf_name,
                  "seed": args.seed, "batch_size": args.batch_size, "lr": args.lr, "momentum": args.momentum,
                  "torch_version": torch.__version__, "epochs": epochs, "total_seconds": total,
                  "final_test_loss": epochs[-1]["test_loss"] if epochs else None,
                  "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None}
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.export_weights:
        export_weights(model, args.export_weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
