"""Speed of one training iteration of `dnn` against the same network in PyTorch (CPU).

Recommended command (from the repository root):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_dnn.py

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, force OpenBLAS onto an older kernel
than the CPU supports; unsetting them for this command alone lets it pick its own
(the "BLAS" line printed below names the kernel in use). Do not change them in tests.

One iteration is what fit() does per full-batch step: forward pass, cost, backward
pass, gradient-descent update, relu hidden layers. Two networks are timed:

  (a) the course's deep network [12288, 20, 7, 5, 1], sigmoid output, 209 examples
      (the cat/non-cat training set when $DNNSWEEP_CAT_DIR or ../shared/data/catvnoncat
      holds it, otherwise random values in [0, 1] of that shape);
  (b) a wider one, [784, 256, 128, 10], softmax output, 10,000 random examples;

each in float64 and float32. PyTorch runs the same network on the same arrays
(shared memory, same dtype, same examples-as-columns layout, autograd for the
backward pass) with as many threads as NumPy's BLAS uses. The two libraries run in
alternating blocks of iterations, never interleaved step by step: their BLAS thread
pools would otherwise fight over the cores. Each figure is the median over rounds.

The matmul peak is the GFLOP/s of a large square A @ B in NumPy in the same dtype,
timed in the same rounds (median); the fraction of it that dnn reaches on (b) counts the FLOPs of the matrix
products dnn really does per iteration (2 n m n_prev for each of Z = W A_prev,
dW = dZ A_prev^T and, except in layer 1, dA_prev = W^T dZ).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dnn import ModelSettings, Trainer, TrainSettings, initialize_parameters  # noqa: E402
from common import cat_dir  # noqa: E402

try:
    import torch
except ImportError:  # the torch column is skipped, with a message
    torch = None

LEARNING_RATE = 0.0075


# ---------------------------------------------------------------- data


def course_data(rng):
    """(a): X (12288, 209) in [0, 1], Y (1, 209) of 0/1, and where they came from."""
    d = cat_dir()
    if d is not None:
        try:
            from dnn.data import load_dataset
            data = load_dataset("cat", dir=str(d), val_fraction=0)
            return data.X_train, data.Y_train, f"cat/non-cat training set ({d})"
        except Exception as e:  # h5py missing or a bad file: random data will do
            print(f"note: could not read {d} ({e}); using random data")
    return rng.rand(12288, 209), (rng.rand(1, 209) > 0.5).astype(float), "random, uniform [0, 1]"


def wide_data(rng):
    """(b): X (784, 10000) in [0, 1], Y one-hot (10, 10000)."""
    m = 10_000
    return rng.rand(784, m), np.eye(10)[:, rng.randint(0, 10, m)], "random, uniform [0, 1]"


# ---------------------------------------------------------------- one iteration, each library

def dnn_runner(X, Y, layer_dims, dtype):
    """A closure doing one fit() iteration of dnn (Trainer.step), on its own parameters."""
    model = ModelSettings(list(layer_dims[1:-1]), "relu", "course")
    train = TrainSettings(learning_rate=LEARNING_RATE, num_iterations=10 ** 9, dtype=dtype)
    trainer = Trainer(X, Y, model, train)

    def step():
        return trainer.step()[0]

    return step


def torch_runner(X, Y, layer_dims, dtype):
    """The same network in PyTorch: Z = W A_prev + b, relu, sigmoid/softmax cross-entropy."""
    import torch.nn.functional as F

    X, Y = X.astype(dtype), Y.astype(dtype)
    Xt = torch.from_numpy(X)  # same memory and layout as dnn's X
    binary = Y.shape[0] == 1
    Yt = torch.from_numpy(Y) if binary else torch.from_numpy(Y.argmax(axis=0))
    init = initialize_parameters(layer_dims, "course", seed=1, dtype=dtype)
    params = [torch.from_numpy(init[k].copy()).requires_grad_() for k in init]
    Ws, bs = params[0::2], params[1::2]

    def step():
        A = Xt
        for l, (W, b) in enumerate(zip(Ws, bs), start=1):
            Z = torch.addmm(b, W, A)  # b + W @ A, one call
            A = torch.relu(Z) if l < len(Ws) else Z
        if binary:
            loss = F.binary_cross_entropy_with_logits(A, Yt)
        else:
            loss = F.cross_entropy(A.T, Yt)  # examples as rows for cross_entropy
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-LEARNING_RATE)
                p.grad = None
        return loss.item()

    return step


# ---------------------------------------------------------------- timing

def time_block(step, n):
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def compare(runners, iters, rounds):
    """Median s/iteration per runner, over rounds of one block of iters each, in turn."""
    for step in runners.values():
        time_block(step, 2)  # warm-up: allocator, BLAS buffers, autograd graph
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, step in runners.items():
            times[name].append(time_block(step, iters))
    return {name: statistics.median(t) for name, t in times.items()}


def matmul_flops(layer_dims, m):
    """FLOPs of the matrix products dnn does in one iteration (dA0 is never computed)."""
    flops = 0
    for l in range(1, len(layer_dims)):
        per_product = 2 * layer_dims[l] * layer_dims[l - 1] * m
        flops += per_product * (3 if l > 1 else 2)  # Z, dW, and dA_prev past layer 1
    return flops


def peak_runner(dtype, n=2000):
    """One (n, n) @ (n, n) product in NumPy: its GFLOP/s is the matmul peak."""
    rng = np.random.RandomState(0)
    A, B = rng.rand(n, n).astype(dtype), rng.rand(n, n).astype(dtype)
    C = np.empty((n, n), dtype)

    def step():
        np.matmul(A, B, out=C)

    return step, 2 * n ** 3


# ---------------------------------------------------------------- main

def blas_description():
    lines = []
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            lines.append(f"{info.get('internal_api')} {info.get('version')} kernel "
                         f"{info.get('architecture')}, {info.get('num_threads')} threads "
                         f"({Path(info['filepath']).name})")
    return "; ".join(lines) or "unknown"


def numpy_blas_threads():
    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return counts[0] if counts else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="blocks per library (median taken)")
    p.add_argument("--iters-a", type=int, default=20, help="iterations per block, network (a)")
    p.add_argument("--iters-b", type=int, default=4, help="iterations per block, network (b)")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads for both libraries (default: what NumPy uses)")
    args = p.parse_args(argv)

    threads = args.threads or numpy_blas_threads()
    with threadpool_limits(limits=threads, user_api="blas"):
        print(f"numpy {np.__version__}; BLAS: {blas_description()}")
        env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
        if env:
            print(f"warning: {env} set: OpenBLAS may run an older kernel than the CPU has")
        if torch is None:
            print("torch is not installed: the torch column is skipped "
                  "(install it with: .venv/bin/pip install torch==2.13.0)")
        else:
            torch.set_num_threads(threads)  # the same count as NumPy's BLAS
            print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        rng = np.random.RandomState(0)
        Xa, Ya, src_a = course_data(rng)
        Xb, Yb, src_b = wide_data(rng)
        cases = [("(a) [12288,20,7,5,1] sigmoid, m=209", Xa, Ya, [12288, 20, 7, 5, 1], args.iters_a),
                 ("(b) [784,256,128,10] softmax, m=10000", Xb, Yb, [784, 256, 128, 10], args.iters_b)]
        print(f"data (a): {src_a}; (b): {src_b}")
        print(f"{args.rounds} rounds of alternating blocks, median ms per iteration\n")

        rows = []
        for dtype in args.dtypes.split(","):
            peak_step, peak_flops = peak_runner(dtype)
            for name, X, Y, dims, iters in cases:
                runners = {"dnn": dnn_runner(X, Y, dims, dtype)}
                if torch is not None:
                    runners["torch"] = torch_runner(X, Y, dims, dtype)
                # The peak is timed in the same rounds: the cores' speed drifts on a shared
                # host, and the fraction must compare dnn with the peak of the same moment.
                runners["peak"] = peak_step
                t = compare(runners, iters, args.rounds)
                peak = peak_flops / t["peak"] / 1e9
                frac = matmul_flops(dims, X.shape[1]) / t["dnn"] / 1e9 / peak
                rows.append((name, dtype, t["dnn"], t.get("torch"), frac, peak))

    header = f"{'network':40} {'dtype':8} {'dnn ms':>9} {'torch ms':>9} {'dnn/torch':>9} " \
             f"{'peak GF/s':>9} {'dnn % peak':>10}"
    print(header)
    print("-" * len(header))
    for name, dtype, td, tt, frac, peak in rows:
        torch_ms = f"{tt * 1e3:9.2f}" if tt else f"{'-':>9}"
        ratio = f"{td / tt:9.2f}" if tt else f"{'-':>9}"
        print(f"{name:40} {dtype:8} {td * 1e3:9.2f} {torch_ms} {ratio} {peak:9.1f} {frac:10.1%}")
    print("\ntargets: dnn/torch <= 1.00 everywhere; dnn % of matmul peak >= 80% on (b)")


if __name__ == "__main__":
    main()
