"""Self-supervised pre-training methods of this research line as an MMPretrain plug-in (used from configs through
``custom_imports``): PR-MIM (``prmim``) and MTE (``mte``). Importing a module registers its parts into MMPretrain's
registries; this package itself imports nothing heavy, so the core install (no torch) can import it."""
