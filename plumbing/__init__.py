"""The ground floor: plumbing every package of the toolkit shares.

errors (the error hierarchy and the one error -> exit-code mapping), files (atomic writes with the umask's mode,
the resumable-output rule), jsonio (reading JSON inputs), hashing, jobs (the worker-count rule, ``--shard``, the
parallel job loops and their progress policy), tables (text tables), cli (the click group and shared options).

It imports none of the project's other packages; ``evaluators``, ``data_manifests``, ``aodraw``, ``imagenet_s`` and
``tools`` stand on it.
"""
