"""``python -m uss``: the ``uss`` command line."""
from uss.cli import main

main()
