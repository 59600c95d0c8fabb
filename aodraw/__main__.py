"""``python -m aodraw ...``; also the torchrun entry (``torchrun --nproc-per-node N -m aodraw pretrain train CFG``)."""
from aodraw.cli import main

main()
