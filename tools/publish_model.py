"""Rewrite a trusted MMDetection checkpoint as weights + metadata only, loadable under torch's weights_only default.

    python tools/publish_model.py work_dirs/run/epoch_12.pth checkpoints/model.pth

Checkpoints written by runs that did not import ``aodraw.mmdet`` (e.g. the authors' fork) hold ``getattr``
references in their message hub and fail under torch >= 2.6's safe loader. This reads the file WITHOUT that
protection: only use it on files you trust. It drops optimizer, schedulers and message hub.
"""
import argparse

from aodraw.mmdet.checkpoints import publish_checkpoint
from plumbing.cli import run_script


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="a checkpoint you trust")
    parser.add_argument("dst", help="the weights-only checkpoint to write")
    args = parser.parse_args()
    meta = publish_checkpoint(args.src, args.dst)
    print(f"wrote {args.dst} (meta: {', '.join(meta) or 'none'})")


if __name__ == "__main__":
    run_script(main)
