#!/usr/bin/env python3
"""Unprocessing speed: the NumPy chain (one image at a time, as the unprocess workers and the training data workers
run it) against the batched torch chain, on one CPU thread, for sRGB crops of --size x --size.

Both get the same parameter draws and the same standard-normal noise, so the mosaics are compared value for value
("identical": every raw value equal; float32 rounding can move a value sitting at .5 by one, reported as the share
of differing values). Times are medians over --repeats runs of --batch images.
Prints `<work>: ours <median s> | <peer> <median s> | ratio <peer/ours>x | identical: yes/no` (ours = NumPy) and
images/s per core.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aodraw.pretrain.camera import Camera  # noqa: E402
from aodraw.pretrain.unprocess import draw_params, unprocess  # noqa: E402
from aodraw.pretrain.unprocess_torch import stack_params, unprocess_torch  # noqa: E402


def median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="crop side (even)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (args.batch, args.size, args.size, 3)).astype(np.float32)
    normal = rng.standard_normal((args.batch, args.size, args.size)).astype(np.float32)
    params = [draw_params(Camera(), rng) for _ in range(args.batch)]
    batch, stacked, noise = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), stack_params(params), \
        torch.from_numpy(normal)

    def ours():
        return np.stack([unprocess(images[i], params[i], normal=normal[i]) for i in range(args.batch)])

    def peer():
        return unprocess_torch(batch, stacked, normal=noise)

    a, b = ours().astype(np.int64), peer().numpy()
    differing = float((a != b).mean())
    t_ours, t_peer = median_time(ours, args.repeats), median_time(peer, args.repeats)
    print(f"unprocess {args.batch} x {args.size}x{args.size}: ours (numpy) {t_ours:.4f} s | torch batched "
          f"{t_peer:.4f} s | ratio {t_peer / t_ours:.2f}x | identical: {'yes' if differing == 0 else 'no'} "
          f"({differing:.4%} of values differ, max {int(np.abs(a - b).max())})")
    print(f"images/s per core: numpy {args.batch / t_ours:.1f} | torch batched {args.batch / t_peer:.1f}")


if __name__ == "__main__":
    main()
