"""Speed of a cross-validated trial: one plain fit vs K-fold CV, lockstep vs stacked.

Command (from the repository root):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_stacked.py

Per network and dtype, in alternating blocks of iterations (median over rounds, ms per
iteration), the runners train the same config:

  plain     one dnn.Trainer on all m examples (what a trial without CV costs);
  lockstep  K dnn.Trainer, one per fold, stepped in turn (search.run.cv.Lockstep, the
            reference path);
  dense     the K fold models as one stacked network (search.run.cv.Stacked,
            dnn.stacked_trainer.StackedTrainer), its first layer W1 itself (dnn/stacked.py);
  span      the same, its first layer in the span of the data (dnn/span.py: products with
            X.T X); left out ("-") where m > span.MAX_COLUMNS or with mini-batches.

Networks (relu hidden layers, gradient descent, full batch unless --batch-size):
  (a) the course's [12288, 20, 7, 5, 1] on the cat/non-cat training images (209; random
      values of that shape when $DNNSWEEP_CAT_DIR or ../shared/data/catvnoncat lacks them);
  (b) [784, 256, 128, 10], softmax, 10,000 random examples (bench_dnn.py's (b)).

Printed: each stacked path / plain (target <= 1.5), lockstep / each stacked path (the
speed-up), the fraction of the matmul peak (a large square product in the same rounds)
that the path taken by default reaches on the products it does, and that path: the method
search.run.cv.choose_method picks and, for stacked, the trainer's first layer.
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_dnn import (blas_description, compare, course_data, matmul_flops,  # noqa: E402
                       numpy_blas_threads, peak_runner)
from common import load1  # noqa: E402
from dnn import ModelSettings, Trainer, TrainSettings  # noqa: E402
from dnn.span import MAX_COLUMNS  # noqa: E402
from search.run.cv import Lockstep, Stacked, choose_method, fold_splits  # noqa: E402


def stacked_flops(dims, m, F, batch_size, first_layer):
    """FLOPs of the products of one stacked iteration: in full batch every fold computes on
    all m columns (its held-out ones masked), with mini-batches on its own m (F-1)/F. The
    span's first layer is one (F n1, m) @ (m, m) product."""
    columns = m if batch_size is None else m * (F - 1) / F
    flops = 2 * F * dims[1] * m * m if first_layer == "span" else 0
    for l in range(1, len(dims)):
        if l > 1 or first_layer == "dense":
            flops += 2 * F * dims[l] * dims[l - 1] * columns * (2 if l == 1 else 3)
    return flops


def runners(X, Y, hidden, dtype, folds, batch_size):
    model = ModelSettings(list(hidden), "relu", "course")
    train = TrainSettings(learning_rate=0.0075, num_iterations=10 ** 9, batch_size=batch_size,
                          dtype=dtype)
    y = Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0].astype(int)
    splits = fold_splits(y, folds, 1, seed=1)
    seeds = [train.seed] * folds
    steps = {"plain": Trainer(X, Y, model, train).step,
             "lockstep": Lockstep(X, Y, splits, seeds, model, train).step}
    for first_layer in ("dense", "span"):
        if first_layer == "dense" or batch_size is None and X.shape[1] <= MAX_COLUMNS:
            steps[first_layer] = Stacked(X, Y, splits, seeds, model, train, first_layer).step
    chosen = choose_method(*X.shape, model, train, folds, Y.shape[0])
    if chosen == "stacked":
        chosen = Stacked(X, Y, splits, seeds, model, train).first_layer
    return steps, chosen


def square_data(rng, n):
    """X (n, n) in [0, 1], Y one-hot (10, n): a first layer the span path may take, whose
    n1 m makes choose_method's rule for the dense path keep lockstep."""
    return rng.rand(n, n), np.eye(10)[:, rng.randint(0, 10, n)]


def ratio(t, a, b, width):
    return f"{t[a] / t[b]:{width}.2f}" if a in t and b in t else f"{'-':>{width}}"


def ms(t, name, width):
    return f"{t[name] * 1e3:{width}.1f}" if name in t else f"{'-':>{width}}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters-a", type=int, default=10, help="iterations per block, (a)")
    p.add_argument("--iters-b", type=int, default=1, help="iterations per block, (b)")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--cases", default="a,b",
                   help="a,b (default); a64,a128,b64,c32,c128: the stacked/lockstep line; "
                        "d400,d800,d1200,d1600,c32,e800: the span/dense line; f: span against lockstep")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=None)
    args = p.parse_args(argv)
    np.seterr(all="ignore")
    threads = numpy_blas_threads()
    rng = np.random.RandomState(0)
    Xa, Ya, src = course_data(rng)
    Xb = rng.rand(784, 10_000)
    Yb = np.eye(10)[:, rng.randint(0, 10, 10_000)]
    Xc = rng.rand(784, 2000)
    Yc = np.eye(10)[:, rng.randint(0, 10, 2000)]
    cases = {"a": ("(a) [12288,20,7,5,1] m=209", Xa, Ya, [20, 7, 5], args.iters_a),
             "b": ("(b) [784,256,128,10] m=10000", Xb, Yb, [256, 128], args.iters_b),
             # where the line between stacked and lockstep lies:
             "a64": ("[12288,64,7,5,1] m=209", Xa, Ya, [64, 7, 5], args.iters_a),
             "a128": ("[12288,128,7,5,1] m=209", Xa, Ya, [128, 7, 5], args.iters_b),
             "b64": ("[784,64,32,10] m=10000", Xb, Yb, [64, 32], args.iters_b),
             "c32": ("[784,32,16,10] m=2000", Xc, Yc, [32, 16], args.iters_a),
             "c128": ("[784,128,64,10] m=2000", Xc, Yc, [128, 64], args.iters_b),
             # where the line between the span and the dense first layer lies (n_x = 784):
             "d400": ("[784,32,16,10] m=400", Xc[:, :400], Yc[:, :400], [32, 16], args.iters_a),
             "d800": ("[784,32,16,10] m=800", Xc[:, :800], Yc[:, :800], [32, 16], args.iters_a),
             "d1200": ("[784,32,16,10] m=1200", Xc[:, :1200], Yc[:, :1200], [32, 16],
                       args.iters_a),
             "d1600": ("[784,32,16,10] m=1600", Xc[:, :1600], Yc[:, :1600], [32, 16],
                       args.iters_a),
             "f": ("[4096,256,128,10] m=4096", *square_data(rng, 4096), [256, 128], args.iters_b),
             "e800": ("[784,128,64,10] m=800", Xc[:, :800], Yc[:, :800], [128, 64],
                      args.iters_a)}
    print(f"numpy {np.__version__}; BLAS: {blas_description()}; cores {os.cpu_count()}")
    print(f"data (a): {src}; K={args.folds} folds; batch_size={args.batch_size}; "
          f"{args.rounds} rounds, median ms per iteration; load average (1 min) {load1():.2f}")
    head = (f"{'network':30} {'dtype':8} {'plain':>8} {'lockstep':>9} {'dense':>8} "
            f"{'span':>7} {'dns/plain':>9} {'spn/plain':>9} {'lock/dns':>8} {'lock/spn':>8} "
            f"{'auto %peak':>10} {'peak GF/s':>9} {'auto':>8}")
    print(head + "\n" + "-" * len(head), flush=True)
    with threadpool_limits(limits=threads, user_api="blas"):
        for dtype in args.dtypes.split(","):
            peak_step, peak_flops = peak_runner(dtype)
            for key in args.cases.split(","):
                name, X, Y, hidden, iters = cases[key]
                steps, chosen = runners(X, Y, hidden, dtype, args.folds, args.batch_size)
                t = compare({**steps, "peak": peak_step}, iters, args.rounds)
                peak = peak_flops / t["peak"] / 1e9
                dims = [X.shape[0], *hidden, Y.shape[0]]
                if chosen == "lockstep":
                    flops = args.folds * matmul_flops(dims, X.shape[1] * (args.folds - 1)
                                                      / args.folds)
                else:
                    flops = stacked_flops(dims, X.shape[1], args.folds, args.batch_size, chosen)
                frac = flops / t[chosen] / 1e9 / peak
                print(f"{name:30} {dtype:8} {ms(t, 'plain', 8)} {ms(t, 'lockstep', 9)} "
                      f"{ms(t, 'dense', 8)} {ms(t, 'span', 7)} {ratio(t, 'dense', 'plain', 9)} "
                      f"{ratio(t, 'span', 'plain', 9)} {ratio(t, 'lockstep', 'dense', 8)} "
                      f"{ratio(t, 'lockstep', 'span', 8)} {frac:10.1%} {peak:9.1f} "
                      f"{chosen:>8}", flush=True)
    print(f"\ntarget: stacked/plain <= 1.5 on (a); auto: the path taken by default (stacked: "
          f"its first layer, dense or span); load average (1 min) at end {load1():.2f}")


if __name__ == "__main__":
    main()
