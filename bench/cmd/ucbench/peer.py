"""PyTorch peer of hepsql's UCluster (mlfuncs/ucluster), for bench/cmd/ucbench.

The same network, losses and schedule as hepsql's, written the way PyTorch
is written: padded batches (to the batch's most particles) with masks, the
kNN graph by topk over the padded distance matrix, the neighbours' features
gathered into a [B, P, k, D] tensor.

  peer.py --data DIR --threads T --seeds 1,2,3 [--pretrain E --epochs E ...]
      trains, prints one JSON line per seed: per-phase seconds per epoch
      and the clustering accuracy on the test jets.
  peer.py --data DIR --init-stats --seeds 1,...,24
      the initial networks' statistics, hepsql's draws against PyTorch's.
  peer.py --replay DIR
      loads hepsql's initial weights and batches from DIR, replays the
      steps, and prints the comparison with hepsql's losses and gradients.
"""
import argparse
import itertools
import json
import os
import sys
import time

import numpy as np
import torch

LEAK = 0.2


def load(d, name):
    return np.load(os.path.join(d, name + ".npy"))


class UCluster(torch.nn.Module):
    """hepsql's layout: every tensor [rows, cols] as mlfuncs/ucluster stores it."""

    def __init__(self, tensors, spec=None):
        super().__init__()
        # The input standardisation (hepsql's Spec.InputMean/InputScale),
        # applied to the real particles after the kNN graph, as hepsql does.
        self.mean = self.scale = None
        if spec and spec.get("input_mean"):
            self.mean = torch.tensor(spec["input_mean"], dtype=torch.float32)
            self.scale = torch.tensor(spec["input_scale"], dtype=torch.float32)
        self.names = [t["name"] for t in tensors]
        self.p = torch.nn.ParameterDict()
        for t in tensors:
            self.p[t["name"].replace(".", "_")] = torch.nn.Parameter(torch.zeros(t["Rows"], t["Cols"]))
        self.tensors = tensors

    def w(self, name):
        return self.p[name.replace(".", "_")]

    def glorot(self, seed, edge1, edge2):
        g = torch.Generator().manual_seed(seed)
        fan_in = {"dense.w_h1": edge1 + edge2, "dense.w_h2": edge1 + edge2}
        with torch.no_grad():
            for t in self.tensors:
                n = t["name"]
                if n.endswith((".ws", ".we", ".u", ".v")) or n in ("dense.w_h1", "dense.w_h2", "head.w", "out.w"):
                    lim = (6.0 / (fan_in.get(n, t["Rows"]) + t["Cols"])) ** 0.5
                    self.w(n).uniform_(-lim, lim, generator=g)

    def load_flat(self, flat):
        with torch.no_grad():
            for t in self.tensors:
                n = t["Rows"] * t["Cols"]
                self.w(t["name"]).copy_(torch.from_numpy(flat[t["offset"]:t["offset"] + n].reshape(t["Rows"], t["Cols"])))

    def flat_grad(self, total):
        out = np.zeros(total, np.float32)
        for t in self.tensors:
            g = self.w(t["name"]).grad
            if g is not None:
                out[t["offset"]:t["offset"] + t["Rows"] * t["Cols"]] = g.detach().numpy().ravel()
        return out

    def gat(self, pre, x, idx, nmask):
        ws, bs, we, u, v = (self.w(pre + s) for s in (".ws", ".bs", ".we", ".u", ".v"))
        S = x @ ws + bs
        Y = x @ we
        si = (S @ u).squeeze(-1)  # [B, P]
        yv = (Y @ v).squeeze(-1)
        B, P, k = idx.shape
        yvj = torch.gather(yv.unsqueeze(1).expand(B, P, P), 2, idx)  # [B, P, k]
        a = torch.nn.functional.leaky_relu(si.unsqueeze(-1) + yvj - yv.unsqueeze(-1), LEAK)
        a = a.masked_fill(~nmask, float("-inf"))
        alpha = torch.softmax(a, -1)
        D = Y.shape[-1]
        Yj = torch.gather(Y.unsqueeze(1).expand(B, P, P, D), 2, idx.unsqueeze(-1).expand(B, P, k, D))
        agg = (alpha.unsqueeze(-1) * Yj).sum(2)
        return torch.relu(S - Y + agg)

    def embed(self, x, mask, k):
        B, P, _ = x.shape
        c = x[..., :2]
        de = c[:, :, None, 0] - c[:, None, :, 0]
        dp = c[:, :, None, 1] - c[:, None, :, 1]
        d = de * de + dp * dp
        d = d.masked_fill(~mask[:, None, :], float("inf"))
        kk = min(k, P)
        idx = torch.topk(d, kk, dim=2, largest=False, sorted=True).indices
        n = mask.sum(1)
        nmask = torch.arange(kk)[None, None, :] < torch.clamp(n, max=kk)[:, None, None]
        nmask = nmask.expand(B, P, kk)
        if self.mean is not None:
            x = torch.where(mask.unsqueeze(-1), (x - self.mean) * self.scale, torch.zeros(()))
        h1 = self.gat("gat1", x, idx, nmask)
        h2 = self.gat("gat2", h1, idx, nmask)
        pa = torch.relu(h1 @ self.w("dense.w_h1") + h2 @ self.w("dense.w_h2") + self.w("dense.b"))
        pa = pa.masked_fill(~mask.unsqueeze(-1), 0.0)
        return pa.max(1).values

    def head(self, z):
        hh = torch.relu(z @ self.w("head.w") + self.w("head.b"))
        return hh @ self.w("out.w") + self.w("out.b")


def losses(model, x, mask, y, k, beta, alpha):
    z = model.embed(x, mask, k)
    logits = model.head(z)
    lp = torch.log_softmax(logits, 1).gather(1, y[:, None]).squeeze(1)
    focal = (-(1 - lp.exp()) ** 2 * lp).mean()
    correct = (logits.argmax(1) == y).sum().item()
    if beta == 0:
        return focal, focal, torch.zeros(()), correct
    mu = model.w("centroids")
    d = ((z[:, None, :] - mu[None]) ** 2).sum(-1)
    q = torch.softmax(-alpha * (d - d.min(1, keepdim=True).values.detach()), 1)
    cl = (q * d).sum(1).mean()
    return focal + beta * cl, focal, cl, correct


def batch_of(parts, counts, idx):
    """Rows idx, padded to their most particles, and the particle mask."""
    n = int(counts[idx].max()) if len(idx) else 1
    x = parts[idx, :max(n, 1)]
    return x, (x != 0).any(-1)


def kmeans(z, k, restarts, rng):
    """k-means++ and Lloyd to a fixed point (at most 300), best inertia of restarts."""
    best, best_in = None, np.inf
    z = z.astype(np.float64)
    for _ in range(restarts):
        c = [z[rng.integers(len(z))]]
        d2 = ((z - c[0]) ** 2).sum(1)
        for _ in range(1, k):
            p = d2 / d2.sum() if d2.sum() > 0 else None
            c.append(z[rng.choice(len(z), p=p)])
            d2 = np.minimum(d2, ((z - c[-1]) ** 2).sum(1))
        c = np.array(c)
        assign = None
        for _ in range(300):
            dist = ((z[:, None, :] - c[None]) ** 2).sum(-1)
            a = dist.argmin(1)
            inertia = dist.min(1).sum()
            if assign is not None and (a == assign).all():
                break
            assign = a
            for j in range(k):
                if (a == j).any():
                    c[j] = z[a == j].mean(0)
                else:
                    c[j] = z[dist.min(1).argmax()]
        if inertia < best_in:
            best, best_in = c, inertia
    return best.astype(np.float32), best_in


def embed_all(model, parts, counts, k, bs=1024):
    out = []
    with torch.no_grad():
        for lo in range(0, len(parts), bs):
            idx = torch.arange(lo, min(lo + bs, len(parts)))
            x, m = batch_of(parts, counts, idx)
            out.append(model.embed(x, m, k))
    return torch.cat(out).numpy()


def cluster_accuracy(truth, clusters, k):
    classes = int(truth.max()) + 1
    t = np.zeros((classes, k), np.int64)
    np.add.at(t, (truth, clusters), 1)
    best = 0
    n = max(classes, k)
    for perm in itertools.permutations(range(n)):
        best = max(best, sum(t[perm[j], j] for j in range(k) if perm[j] < classes))
    return best / len(truth)


def train(a, meta, seed):
    torch.manual_seed(seed)
    d = a.data
    parts = torch.from_numpy(load(d, "train_particles"))
    counts = torch.from_numpy(load(d, "train_counts").astype(np.int64))
    y = torch.from_numpy(load(d, "train_aux").astype(np.int64))
    tparts = torch.from_numpy(load(d, "test_particles"))
    tcounts = torch.from_numpy(load(d, "test_counts").astype(np.int64))
    truth = load(d, "test_truth").astype(np.int64)
    s = meta["spec"]
    model = UCluster(meta["tensors"], meta["spec"])
    if a.same_init:
        model.load_flat(load(d, f"init_seed{seed}"))
    else:
        model.glorot(seed, s["edge1"], s["edge2"])
    k = s["neighbors"]
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)
    res = {"framework": "pytorch", "threads": a.threads, "seed": seed, "pretrain_s": [], "cluster_s": []}
    total = a.pretrain + a.epochs
    for e in range(1, total + 1):
        beta, alpha = 0.0, 0.0
        if e > a.pretrain:
            if e == a.pretrain + 1:
                t0 = time.perf_counter()
                c, inertia = kmeans(embed_all(model, parts, counts, k), s["clusters"], 4, rng)
                with torch.no_grad():
                    model.w("centroids").copy_(torch.from_numpy(c))
                res["kmeans_s"] = time.perf_counter() - t0
                opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)
            beta, alpha = a.beta, a.alpha + a.alpha_step * (e - a.pretrain - 1)
        lr = max(a.lr * 0.5 ** ((e - 1) // a.halve), 1e-5)
        for g in opt.param_groups:
            g["lr"] = lr
        perm = torch.randperm(len(parts))
        t0 = time.perf_counter()
        tot = 0.0
        for lo in range(0, len(parts), a.batch):
            idx = perm[lo:lo + a.batch]
            x, m = batch_of(parts, counts, idx)
            opt.zero_grad()
            loss, _, _, _ = losses(model, x, m, y[idx], k, beta, alpha)
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        dt = time.perf_counter() - t0
        res["pretrain_s" if beta == 0 else "cluster_s"].append(dt)
        print(f"  pytorch seed {seed} epoch {e}: loss {tot / len(parts):.4f} ({dt:.2f} s)", file=sys.stderr)
    z = embed_all(model, tparts, tcounts, k)
    mu = model.w("centroids").detach().numpy()
    clusters = ((z[:, None, :] - mu[None]) ** 2).sum(-1).argmin(1)
    res["accuracy"] = cluster_accuracy(truth, clusters, s["clusters"])
    res["sizes"] = np.bincount(clusters, minlength=s["clusters"]).tolist()
    return res


def replay(a, meta):
    """hepsql's steps from hepsql's weights: losses, step-0 gradients, final weights."""
    d = a.replay
    s = meta["spec"]
    k = s["neighbors"]
    model = UCluster(meta["tensors"], meta["spec"])
    model.load_flat(load(d, "init"))
    parts = torch.from_numpy(load(a.data, "train_particles"))
    counts = torch.from_numpy(load(a.data, "train_counts").astype(np.int64))
    y = torch.from_numpy(load(a.data, "train_aux").astype(np.int64))
    order = torch.from_numpy(load(d, "order").astype(np.int64))
    rp = meta["replay"]
    B, pre, clu = rp["batch"], rp["pretrain_steps"], rp["cluster_steps"]
    go_loss = load(d, "go_losses")
    out = {"steps": pre + clu, "loss_go": [], "loss_torch": []}
    opt = torch.optim.Adam(model.parameters(), lr=rp["lr"], eps=1e-7)
    total = sum(t["Rows"] * t["Cols"] for t in meta["tensors"])
    for step in range(pre + clu):
        if step == pre:
            opt = torch.optim.Adam(model.parameters(), lr=rp["lr"], eps=1e-7)
        beta, alpha = (0.0, 0.0) if step < pre else (rp["beta"], rp["alpha"])
        idx = order[step * B:(step + 1) * B]
        x, m = batch_of(parts, counts, idx)
        opt.zero_grad()
        loss, _, _, _ = losses(model, x, m, y[idx], k, beta, alpha)
        loss.backward()
        if step == pre:
            # The same step from hepsql's weights at this point: the
            # end-to-end loss's gradient without the pre-training's drift.
            twin = UCluster(meta["tensors"], meta["spec"])
            twin.load_flat(load(d, "go_pre_state"))
            tl, _, _, _ = losses(twin, x, m, y[idx], k, beta, alpha)
            tl.backward()
            g, gg = twin.flat_grad(total), load(d, f"go_grad{step}")
            out[f"grad_step{step}_same_weights_rel_l2"] = float(np.linalg.norm(g - gg) / np.linalg.norm(gg))
            out[f"grad_step{step}_same_weights_max_abs_diff"] = float(np.abs(g - gg).max())
            out[f"loss_step{step}_same_weights_rel_diff"] = float(abs(tl.item() - go_loss[step]) / abs(go_loss[step]))
        if step in (0, pre):
            g = model.flat_grad(total)
            gg = load(d, f"go_grad{step}")
            out[f"grad_step{step}_max_abs_diff"] = float(np.abs(g - gg).max())
            out[f"grad_step{step}_max_abs"] = float(np.abs(gg).max())
            out[f"grad_step{step}_rel_l2"] = float(np.linalg.norm(g - gg) / np.linalg.norm(gg))
        opt.step()
        out["loss_torch"].append(loss.item())
        out["loss_go"].append(float(go_loss[step]))
    final = np.concatenate([model.w(t["name"]).detach().numpy().ravel() for t in sorted(meta["tensors"], key=lambda t: t["offset"])])
    gofinal = load(d, "go_final")
    out["final_weights_rel_l2"] = float(np.linalg.norm(final - gofinal) / np.linalg.norm(gofinal))
    lt, lg = np.array(out["loss_torch"]), np.array(out["loss_go"])
    out["loss_max_rel_diff"] = float((np.abs(lt - lg) / np.abs(lg)).max())
    if len(lt) > 40:  # long replays: the curves as means over blocks of 16 steps
        blk = lambda v: [round(float(v[i:i + 16].mean()), 5) for i in range(0, len(v), 16)]
        out["loss_go"], out["loss_torch"] = blk(lg), blk(lt)
    print(json.dumps(out))


def init_stats(a, meta):
    """The initial network's statistics on the first 512 training jets, for
    hepsql's draws (init_seedN.npy, as ucbench exports them for -seeds) and
    PyTorch's own, seed by seed: do the two draws come from one
    distribution? Dead embedding channels (zero for every jet), mean ‖z‖,
    mean ‖z − mean z‖ / mean ‖z‖, the head's logits' σ over the jets."""
    s = meta["spec"]
    parts = torch.from_numpy(load(a.data, "train_particles"))[:512]
    counts = torch.from_numpy(load(a.data, "train_counts").astype(np.int64))[:512]

    def stats(model):
        z = torch.from_numpy(embed_all(model, parts, counts, s["neighbors"]))
        norm = z.norm(dim=1).mean().item()
        with torch.no_grad():
            lg = model.head(z)
        return [(z.max(0).values <= 0).float().mean().item(), norm,
                (z - z.mean(0)).norm(dim=1).mean().item() / norm, lg.std(0).mean().item()]

    rows = {"hepsql": [], "pytorch": []}
    for seed in [int(x) for x in a.seeds.split(",")]:
        m = UCluster(meta["tensors"], s)
        m.load_flat(load(a.data, f"init_seed{seed}"))
        rows["hepsql"].append(stats(m))
        torch.manual_seed(seed)
        m = UCluster(meta["tensors"], s)
        m.glorot(seed, s["edge1"], s["edge2"])
        rows["pytorch"].append(stats(m))
    out = {}
    for k, v in rows.items():
        v = np.array(v)
        out[k] = {n: [round(float(v[:, i].mean()), 4), round(float(v[:, i].std()), 4)]
                  for i, n in enumerate(["dead_fraction", "mean_norm", "spread_over_norm", "logit_sd"])}
    out["draws"] = len(rows["hepsql"])
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--pretrain", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--halve", type=int, default=8)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--alpha", type=float, default=1)
    ap.add_argument("--alpha-step", type=float, default=2)
    ap.add_argument("--replay")
    ap.add_argument("--same-init", action="store_true", help="start from hepsql's initial weights of the seed")
    ap.add_argument("--init-stats", action="store_true", help="compare the initial networks of hepsql's and PyTorch's draws over --seeds (mean and sd of each statistic)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    if a.replay:
        replay(a, meta)
        return
    if a.init_stats:
        init_stats(a, meta)
        return
    for seed in [int(s) for s in a.seeds.split(",")]:
        print(json.dumps(train(a, meta, seed)), flush=True)


if __name__ == "__main__":
    main()
