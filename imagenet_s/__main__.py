"""``python -m imagenet_s``: the ``imagenet-s`` command line."""
from imagenet_s.cli import main

main()
