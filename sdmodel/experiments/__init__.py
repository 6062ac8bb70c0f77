"""Experiments on the model: scenario runs, uncertainties, sampling, sweeps, comparisons.

In the XLRM vocabulary: uncertainties (:mod:`uncertainty`, :mod:`distributions`), their
samples (:mod:`sampling`), runs (:mod:`runner`, :mod:`sweep` with its executors and its
memory planning), the measures of policy variants (:mod:`compare`, :mod:`measures`) and
the ensemble's statistics (:mod:`summary`).
"""
