"""Batch tagging of a catalog: every audio file of a folder or manifest, one result row each.

``songid-tag`` runs the service's own model class and pipeline
(:class:`service.model.SongModel`, :class:`service.pipeline.Pipeline`) over
many files, either in a local process pool or on a Ray cluster, and writes the rows as
JSON Lines or Parquet. Modules, one concern each:

==================  ==============================================================
``sources``         which files: a folder (recursively) or a CSV manifest
``tagging``         one file to one row, with the service's model and pipeline
``sinks``           the output: row schema, JSON Lines or Parquet, what is done
``local``           the default engine: a process pool, one ONNX Runtime session per worker
``ray_engine``      the same job on Ray Data (optional extra ``ray``)
``job``             one job end to end: list, skip what is done, run an engine, report
``cli``             the ``songid-tag`` command line
==================  ==============================================================
"""
