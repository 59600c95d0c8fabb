"""Run a trained detector over images fast and write COCO results: ``aodraw infer`` itself (same options, same
error convention; ``python tools/infer.py --help`` lists them).

    python tools/infer.py CONFIG CHECKPOINT --ann test.json --out results.json [--batch-size 8] [--amp bf16]
    python tools/infer.py CONFIG CHECKPOINT --images full_res_packs/ --out results.json --slices 1280:300
"""
import sys

from aodraw.cli import main

if __name__ == "__main__":
    main(["infer", *sys.argv[1:]], prog_name="tools/infer.py")
