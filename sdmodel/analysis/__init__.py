"""Analyses of ensemble files: global sensitivity (Sobol, Morris) and scenario discovery."""
