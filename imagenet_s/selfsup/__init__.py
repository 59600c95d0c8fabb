"""Self-supervised pre-training methods of this research line as an MMPretrain plug-in (used from configs through
``custom_imports``): the iBOT/DINO base (``ibot``, with ``heads``, ``losses``, ``transforms``, ``vit``), SERE
(``sere``), HSSL (``hssl``), PR-MIM (``prmim``) and MTE (``mte``); ``export`` writes the backbone of a training
checkpoint. Importing a module registers its parts into MMPretrain's registries; this package itself imports nothing
heavy, so the core install (no torch) can import it."""
