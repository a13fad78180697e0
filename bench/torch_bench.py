"""PyTorch figures for the same workloads as bench/run.mjs, printed as one JSON line (the last line).

Run with Debian's python3 (/usr/bin/python3) and OPENBLAS_NUM_THREADS=1; every figure is the best of
torch.set_num_threads(1) and (2). Inputs are random (seeded); only speed is measured.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def best_time(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_gflops(n):
    a, b = torch.randn(n, n), torch.randn(n, n)
    c = torch.empty(n, n)
    t = best_time(lambda: torch.mm(a, b, out=c), 5)
    return 2 * n**3 / t / 1e9


def train_rate(model, make_batch, loss_fn, batch, min_samples, min_seconds):
    """Samples per second of SGD (momentum 0.9) training steps, timed after a warm-up step."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    x, y = make_batch()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    step()
    samples, t0 = 0, time.perf_counter()
    while samples < min_samples or time.perf_counter() - t0 < min_seconds:
        step()
        samples += batch
    return samples / (time.perf_counter() - t0)


def mlp(dropout):
    layers = [nn.Linear(784, 800), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers += [nn.Linear(800, 800), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(800, 10))
    return nn.Sequential(*layers)


def mlp_rate(dropout):
    batch = 100
    return train_rate(
        mlp(dropout),
        lambda: (torch.randn(batch, 784), torch.randint(0, 10, (batch,))),
        F.cross_entropy,
        batch,
        6000,
        1.0,
    )


def cnn_rate():
    batch = 64
    model = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4096, 1024), nn.ReLU(), nn.Linear(1024, 10),
    )
    return train_rate(
        model,
        lambda: (torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))),
        F.cross_entropy,
        batch,
        batch * 3,
        3.0,
    )


class LastStepLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 128, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def lstm_rate():
    batch = 32
    return train_rate(
        LastStepLSTM(),
        lambda: (torch.randn(batch, 784, 1), torch.randint(0, 10, (batch,))),
        F.cross_entropy,
        batch,
        batch,
        3.0,
    )


def main():
    figures = {
        "matmul_gflops_512": lambda: matmul_gflops(512),
        "matmul_gflops_1024": lambda: matmul_gflops(1024),
        "mlp_samples_per_s": lambda: mlp_rate(True),
        "mlp_nodropout_samples_per_s": lambda: mlp_rate(False),
        "cnn_samples_per_s": cnn_rate,
        "lstm_samples_per_s": lstm_rate,
    }
    out = {"torch_version": torch.__version__}
    for name, fn in figures.items():
        per_threads = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            per_threads[threads] = fn()
        best = max(per_threads, key=per_threads.get)
        out["torch_" + name] = round(per_threads[best], 1)
        out["torch_" + name + "_threads"] = best
        print(f"torch {name}: {per_threads[1]:.1f} (1 thread), {per_threads[2]:.1f} (2 threads)", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
