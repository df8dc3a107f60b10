"""Studies: protocols built from the training library, each run resumably and written up in reports/.

One module per study and one for its report; :mod:`training.studies.paths` holds what they share
(folders, flags, the smoke budget) and :mod:`training.studies.records` how their runs are kept.
"""
