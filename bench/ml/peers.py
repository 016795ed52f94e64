#!/usr/bin/env python3
"""PyTorch and XGBoost peers of hepsql's trainer, for bench/cmd/mlbench.

Reads the .npy files that mlbench writes, trains one model at a given
thread count, writes the test-set probabilities to --out (so that mlbench
scores every peer with the same AUC code) and prints one JSON line of
timings. Run by mlbench; by hand:

    python3 bench/ml/peers.py --data bench/data/ml --model mlp --threads 1 --epochs 2 --out /tmp/p.npy
    python3 bench/ml/peers.py --data bench/data/ml --model inclusive --check-masking
    python3 bench/ml/peers.py --data bench/data/ml --model inclusive --replay /tmp/mlreplay  # bench/cmd/mlreplay runs it
"""
import argparse
import json
import time

import numpy as np


def load(d, name):
    return np.load(f"{d}/{name}.npy")


def torch_mlp(a, out):
    import torch
    x, y = torch.from_numpy(load(a.data, "hlf_train_x")), torch.from_numpy(load(a.data, "hlf_train_y").astype(np.int64))
    xt = torch.from_numpy(load(a.data, "hlf_test_x"))
    sizes = [14, 50, 20, 10, 3]
    layers = []
    for i in range(4):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < 3:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    n = len(y)
    res = {"epoch_seconds": [], "train_loss": []}
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        tot = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        res["epoch_seconds"].append(time.perf_counter() - t0)
        res["train_loss"].append(tot / n)
    model.eval()
    with torch.no_grad():
        np.save(out, torch.softmax(model(xt), 1).numpy().astype(np.float32))
        xp = torch.from_numpy(load(a.data, "predict_x"))
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            torch.softmax(model(xp), 1)
            best = min(best, time.perf_counter() - t0)
        res["predict_rows_per_s"] = len(xp) / best
    return res


class Inclusive:
    def __init__(self):
        import torch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = torch.nn.GRU(19, 50, batch_first=True)
                self.drop = torch.nn.Dropout(0.2)
                self.d1 = torch.nn.Linear(64, 25)
                self.d2 = torch.nn.Linear(25, 3)
                for lin in (self.d1, self.d2):
                    torch.nn.init.xavier_uniform_(lin.weight)
                    torch.nn.init.zeros_(lin.bias)
                # hepsql's (and Keras') GRU initialisation rather than
                # PyTorch's uniform ±1/√H on every tensor: Glorot-uniform
                # kernels, each gate's block on its own, and zero biases;
                # the same architecture then starts from the same
                # distribution in both trainers.
                with torch.no_grad():
                    for w in (self.gru.weight_ih_l0, self.gru.weight_hh_l0):
                        for gate in w.chunk(3, 0):
                            torch.nn.init.xavier_uniform_(gate)
                    self.gru.bias_ih_l0.zero_()
                    self.gru.bias_hh_l0.zero_()

            def forward(self, padded, lens, hlf):
                # Masking: the GRU runs over the padded batch and each
                # sequence's state is taken at its last real step, so the
                # padding after it changes neither the output nor (the loss
                # not depending on later steps) the gradients: the same
                # function as a packed sequence, to float rounding
                # (bench/ml/peers.py --check-masking compares them). Packing
                # was the first version; in PyTorch 1.13 on CPU a packed
                # GRU's backward took 11.5 s per batch of 128 topology
                # sequences, against 0.17 s for the padded one (oneDNN).
                out, _ = self.gru(padded)
                last = out[torch.arange(len(lens)), lens - 1]
                z = torch.cat([self.drop(last), self.drop(hlf)], 1)
                return self.d2(torch.relu(self.d1(z)))

        self.net = Net()


def seq_rows(d, part):
    import torch
    lens = load(d, f"seq_{part}_lens")
    steps = torch.from_numpy(load(d, f"seq_{part}_steps"))
    rows = list(torch.split(steps, lens.tolist()))
    return rows, torch.from_numpy(lens.astype(np.int64))


def torch_inclusive(a, out):
    import torch
    from torch.nn.utils.rnn import pad_sequence
    rows, lens = seq_rows(a.data, "train")
    hlf = torch.from_numpy(load(a.data, "seq_train_hlf"))
    y = torch.from_numpy(load(a.data, "seq_train_y").astype(np.int64))
    trows, tlens = seq_rows(a.data, "test")
    thlf = torch.from_numpy(load(a.data, "seq_test_hlf"))
    model = Inclusive().net
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()

    def padded(rs, idx):
        # Padded to the batch's longest sequence, as hepsql's trainer
        # receives it (hepsql skips the padding rather than computing it).
        return pad_sequence([rs[i] for i in idx], batch_first=True)

    n = len(y)
    res = {"epoch_seconds": [], "train_loss": []}
    for _ in range(a.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        tot = 0.0
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(padded(rows, idx), lens[idx], hlf[idx]), y[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        res["epoch_seconds"].append(time.perf_counter() - t0)
        res["train_loss"].append(tot / n)
    model.eval()
    probs = []
    with torch.no_grad():
        for i in range(0, len(trows), 512):
            idx = torch.arange(i, min(i + 512, len(trows)))
            probs.append(torch.softmax(model(padded(trows, idx), tlens[idx], thlf[idx]), 1))
    np.save(out, torch.cat(probs).numpy().astype(np.float32))
    return res


def check_masking(a):
    """Checks on one training batch that the padded formulation of the
    inclusive model equals a packed GRU (PyTorch's own masking): outputs and
    every parameter gradient, relative to the largest value."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
    rows, lens = seq_rows(a.data, "train")
    hlf = torch.from_numpy(load(a.data, "seq_train_hlf"))
    model = Inclusive().net
    model.eval()  # no dropout: both passes must see the same function
    idx = torch.arange(min(a.batch, len(rows)))
    p = pad_sequence([rows[i] for i in idx], batch_first=True)

    def grads(out):
        model.zero_grad()
        out.sum().backward()
        return [q.grad.clone() for q in model.parameters()]

    padded = model(p, lens[idx], hlf[idx])
    gp = grads(padded)
    _, h = model.gru(pack_padded_sequence(p, lens[idx], batch_first=True, enforce_sorted=False))
    packed = model.d2(torch.relu(model.d1(torch.cat([h[0], hlf[idx]], 1))))
    gk = grads(packed)
    rel = lambda x, y: ((x - y).abs().max() / y.abs().max().clamp_min(1e-30)).item()
    res = {"output_rel_diff": rel(padded, packed), "grad_rel_diff": max(rel(x, y) for x, y in zip(gp, gk))}
    res["ok"] = res["output_rel_diff"] < 1e-5 and res["grad_rel_diff"] < 1e-4
    return res


def replay(a):
    """The PyTorch half of bench/cmd/mlreplay: from the initial weights in
    DIR/init (hepsql's, in PyTorch's layout), the batches of DIR/order.npy
    and DIR/sizes.npy in turn, dropout off (eval mode), Adam with hepsql's
    settings; writes DIR/torch_losses.npy and DIR/torch_grad0/ and, where
    mlreplay left its own results (go_losses.npy, grad0/, final/), prints
    the comparison as JSON."""
    import os
    import torch
    from torch.nn.utils.rnn import pad_sequence
    d = a.replay
    rows, lens = seq_rows(a.data, "train")
    hlf = torch.from_numpy(load(a.data, "seq_train_hlf"))
    y = torch.from_numpy(load(a.data, "seq_train_y").astype(np.int64))
    model = Inclusive().net
    model.eval()
    names = [n for n, _ in model.named_parameters()]
    model.load_state_dict({n: torch.from_numpy(np.load(f"{d}/init/{n}.npy")) for n in names})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    order = torch.from_numpy(np.load(f"{d}/order.npy").astype(np.int64))
    sizes = np.load(f"{d}/sizes.npy")
    losses, grad0, pos = [], {}, 0
    for k, n in enumerate(sizes.tolist()):
        idx = order[pos:pos + n]
        pos += n
        opt.zero_grad()
        loss = lossf(model(pad_sequence([rows[i] for i in idx], batch_first=True), lens[idx], hlf[idx]), y[idx])
        loss.backward()
        if k == 0:
            grad0 = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        opt.step()
        losses.append(loss.item())
    np.save(f"{d}/torch_losses.npy", np.array(losses))
    os.makedirs(f"{d}/torch_grad0", exist_ok=True)
    for n, g in grad0.items():
        np.save(f"{d}/torch_grad0/{n}.npy", g.numpy())
    if not os.path.exists(f"{d}/go_losses.npy"):
        return {"steps": len(losses), "torch_losses": losses}

    def rel(ours, theirs):
        # Largest difference relative to the largest value of the tensor.
        return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30))

    go = np.load(f"{d}/go_losses.npy")
    final = {n: p.detach().numpy() for n, p in model.named_parameters()}
    res = {
        "steps": len(losses),
        "loss0": {"hepsql": float(go[0]), "torch": losses[0], "rel_diff": abs(go[0] - losses[0]) / losses[0]},
        "grad0_rel_diff": {n: rel(np.load(f"{d}/grad0/{n}.npy"), grad0[n].numpy()) for n in names},
        "final_weights_rel_diff": {n: rel(np.load(f"{d}/final/{n}.npy"), final[n]) for n in names},
        "max_loss_rel_diff": float(np.max(np.abs(go - np.array(losses)) / np.array(losses))),
        "curve (step, hepsql, torch)": [f"{k:4d} {go[k]:.6f} {losses[k]:.6f}" for k in sorted(set(range(0, len(losses), 5)) | {len(losses) - 1})],
    }
    res["ok"] = res["loss0"]["rel_diff"] < 1e-5 and max(res["grad0_rel_diff"].values()) < 1e-4
    return res


def xgb(a, out):
    import xgboost
    x, y = load(a.data, "hlf_train_x"), load(a.data, "hlf_train_y")
    xt = load(a.data, "hlf_test_x")
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 6, "eta": 0.3,
              "tree_method": "hist", "nthread": a.threads, "seed": a.seed}
    t0 = time.perf_counter()
    booster = xgboost.train(params, xgboost.DMatrix(x, label=y, nthread=a.threads), num_boost_round=a.trees)
    res = {"train_seconds": time.perf_counter() - t0}
    np.save(out, booster.predict(xgboost.DMatrix(xt, nthread=a.threads)).astype(np.float32))
    xp = xgboost.DMatrix(load(a.data, "predict_x"), nthread=a.threads)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        booster.predict(xp)
        best = min(best, time.perf_counter() - t0)
    res["predict_rows_per_s"] = xp.num_row() / best
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--model", choices=["mlp", "inclusive", "xgboost"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--check-masking", action="store_true", help="compare the padded inclusive model with a packed GRU on one batch, then exit")
    p.add_argument("--replay", metavar="DIR", help="replay bench/cmd/mlreplay's inclusive-model steps from DIR (its weights and batches), compare, then exit")
    a = p.parse_args()
    import torch
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    if a.check_masking:
        res = check_masking(a)
        print(json.dumps(res))
        raise SystemExit(0 if res["ok"] else 1)
    if a.replay:
        res = replay(a)
        print(json.dumps(res, indent=1))
        raise SystemExit(0 if res.get("ok", True) else 1)
    if not a.out:
        p.error("--out is required")
    res = {"mlp": torch_mlp, "inclusive": torch_inclusive, "xgboost": xgb}[a.model](a, a.out)
    res["version"] = torch.__version__ if a.model != "xgboost" else __import__("xgboost").__version__
    print(json.dumps(res))


if __name__ == "__main__":
    main()
