"""The model: pysd translation, element metadata, names, units, scenarios and policies.

The ``.mdl`` in ``stocks_flows/`` is the single source of truth; this package reads it
(:mod:`translate`, :mod:`info`), checks units (:mod:`units`, :mod:`unitcheck`) and turns
scenario and policy files into validated constant settings (:mod:`scenarios`,
:mod:`policies`). :mod:`history` defines the 1995-2023 history run.
"""
