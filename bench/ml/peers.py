#!/usr/bin/env python3
"""PyTorch and XGBoost peers of hepsql's trainer, for bench/cmd/mlbench.

Reads the .npy files that mlbench writes, trains one model at a given
thread count, writes the test-set probabilities to --out (so that mlbench
scores every peer with the same AUC code) and prints one JSON line of
timings. Run by mlbench; by hand:

    python3 bench/ml/peers.py --data bench/data/ml --model mlp --threads 1 --epochs 2 --out /tmp/p.npy
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

            def forward(self, packed, hlf):
                _, h = self.gru(packed)
                z = torch.cat([self.drop(h[0]), self.drop(hlf)], 1)
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
    from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
    rows, lens = seq_rows(a.data, "train")
    hlf = torch.from_numpy(load(a.data, "seq_train_hlf"))
    y = torch.from_numpy(load(a.data, "seq_train_y").astype(np.int64))
    trows, tlens = seq_rows(a.data, "test")
    thlf = torch.from_numpy(load(a.data, "seq_test_hlf"))
    model = Inclusive().net
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()

    def packed(rs, ls, idx):
        # Masking as PyTorch does it: padded to the batch's longest
        # sequence, packed so that the GRU skips the padding.
        p = pad_sequence([rs[i] for i in idx], batch_first=True)
        return pack_padded_sequence(p, ls[idx], batch_first=True, enforce_sorted=False)

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
            loss = lossf(model(packed(rows, lens, idx), hlf[idx]), y[idx])
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
            probs.append(torch.softmax(model(packed(trows, tlens, idx), thlf[idx]), 1))
    np.save(out, torch.cat(probs).numpy().astype(np.float32))
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
    p.add_argument("--out", required=True)
    a = p.parse_args()
    import torch
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    res = {"mlp": torch_mlp, "inclusive": torch_inclusive, "xgboost": xgb}[a.model](a, a.out)
    res["version"] = torch.__version__ if a.model != "xgboost" else __import__("xgboost").__version__
    print(json.dumps(res))


if __name__ == "__main__":
    main()
