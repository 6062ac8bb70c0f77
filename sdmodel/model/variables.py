"""Named sets of model variables (Vensim names) used as defaults by runs and sweeps.

The output contract's minimum set (``../shared/DESIGN.md``) plus the indicators the
figures and shock reports need. Keeping the default small keeps ensemble memory
proportional to what users look at; ``--vars`` saves anything else.
"""

from __future__ import annotations

#: DESIGN.md's minimum set of model variables.
CONTRACT = (
    "Effective compute OOM",
    "Automatable task share",
    "Adopted automation share",
    "Employment",
    "Unemployed",
    "Unemployment rate",
    "Wage",
    "Labour income share",
    "GDP",
    "Displacement",
    "Reinstatement",
    "WW recipients",
    "WW outlays",
    "AWf balance",
    "Bijstand recipients",
    "Retraining capacity",
    "Retraining enrolled",
    "Retraining waiting list",
    "AI training spending share of world GDP",
    "Labour compensation",
    "Capital income",
    "Labour force",
)

#: Saved by default in ensembles: the contract plus key indicators.
DEFAULT_SAVED = CONTRACT + (
    "Productivity effect",
    "Real wage",
    "Price level",
    "Value added",
    "Consumption",
    "Private investment",
    "AI capital",
    "Output gap",
    "Unemployment rate by skill",
    "Total employment",
    "Total long term unemployed",
    "Total vacancies",
    "High to low wage ratio",
    "WW outlays share of GDP",
    "AWf premium rate",
    "Bijstand outlays",
    "Public outlays share of GDP",
)
