"""MMEngine / MMSegmentation glue for the USS protocol: ``UnsupervisedSegMetric`` (import ``uss.mmseg.metric``, e.g.
through ``custom_imports``, to register it)."""
