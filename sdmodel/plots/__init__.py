"""Figures: the run overview, the sweep's fan charts and the shock comparison."""
