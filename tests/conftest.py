"""Shared fixtures: a tiny Vensim model with scenarios, and the real model when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdmodel.io.paths import MODEL_PATH

#: A small model with the features the infrastructure must handle: a subscript range,
#: a stock with two flows, subscripted and scalar constants with units and comments,
#: money units, a lookup and the control section.
TINY_MDL = r"""{UTF-8}
Skill:
	low, middle, high
	~
	~	Skill groups by wage level.
	|

Employment[Skill]= INTEG (
	Hiring[Skill]-Displacement[Skill],
		Initial employment[Skill])
	~	Person
	~	Employed persons.
	|

Hiring[Skill]=
	Employment[Skill]*Hiring rate
	~	Person/Year
	~	Hiring flow.
	|

Displacement[Skill]=
	Employment[Skill]*Displacement rate[Skill]
	~	Person/Year
	~	Displaced per year.
	|

Initial employment[Skill]=
	1000, 2000, 1500
	~	Person
	~	Initial employment by skill.
	|

Displacement rate[Skill]=
	0.01, 0.02, 0.03
	~	1/Year
	~	Fraction displaced per year.
	|

Hiring rate=
	0.015
	~	1/Year
	~	Fraction hired per year.
	|

Total employment=
	SUM(Employment[Skill!])
	~	Person
	~	Total employed.
	|

Wage bill=
	Total employment*Average wage
	~	EUR/Year
	~	Total wages.
	|

Average wage=
	40000
	~	EUR/(Person*Year)
	~	Average wage per person.
	|

Effect lookup(
	[(0,0)-(10,1)],(0,0),(5,0.5),(10,1))
	~	Dmnl
	~	A lookup.
	|

Lookup output=
	Effect lookup(Time-2024)
	~	Dmnl
	~	Uses the lookup.
	|

********************************************************
	.Control
********************************************************~
		Simulation Control Parameters
	|

FINAL TIME  = 2030
	~	Year
	~	The final time for the simulation.
	|

INITIAL TIME  = 2024
	~	Year
	~	The initial time for the simulation.
	|

SAVEPER  = 0.25
	~	Year [0,?]
	~	The frequency with which output is stored.
	|

TIME STEP  = 0.0625
	~	Year [0,?]
	~	The time step for the simulation.
	|

\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it's just a marker
"""

TINY_SCENARIOS = {
    "no_further_ai": """
description = "Nobody is displaced."
sources = ["test"]
[constants]
"Displacement rate" = 0
""",
    "central": """
name = "central"
description = "Faster hiring, more displacement of the middle group."
sources = ["test", "another source"]
[constants]
"Hiring rate" = 0.02
"displacement_rate[MIDDLE]" = 0.05
"Initial employment" = { low = 1100, high = 1400 }
""",
}

requires_model = pytest.mark.skipif(
    not MODEL_PATH.is_file(), reason=f"real model {MODEL_PATH.name} not written yet"
)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory with ``tiny.mdl`` and ``scenarios/*.toml``."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.mdl").write_text(TINY_MDL, encoding="utf-8")
    (root / "scenarios").mkdir()
    for name, text in TINY_SCENARIOS.items():
        (root / "scenarios" / f"{name}.toml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tiny_mdl(tiny_dir: Path) -> Path:
    return tiny_dir / "tiny.mdl"


@pytest.fixture(scope="session")
def tiny_model(tiny_mdl: Path):
    from sdmodel.model.translate import load_model

    return load_model(tiny_mdl)


@pytest.fixture(scope="session")
def tiny_info(tiny_model, tiny_mdl: Path):
    from sdmodel.model.info import ModelInfo

    return ModelInfo.from_model(tiny_model, tiny_mdl)


@pytest.fixture(scope="session")
def tiny_run(tiny_dir: Path, tiny_mdl: Path):
    """Both tiny scenarios, with an override, run once with pysd."""
    from sdmodel.experiments.runner import run_scenarios

    return run_scenarios(
        ["no_further_ai", "central"],
        [("Average wage", 50000.0)],
        tiny_mdl,
        scenario_dir=tiny_dir / "scenarios",
    )


@pytest.fixture(scope="session")
def real_model():
    if not MODEL_PATH.is_file():
        pytest.skip(f"real model {MODEL_PATH.name} not written yet")
    from sdmodel.model.translate import load_model

    return load_model(MODEL_PATH)


@pytest.fixture(scope="session")
def real_info(real_model):
    from sdmodel.model.info import ModelInfo

    return ModelInfo.from_model(real_model, MODEL_PATH)


@pytest.fixture(scope="session")
def real_cli_run(tmp_path_factory: pytest.TempPathFactory, real_model):
    """``sdmodel run --scenario no_further_ai --out <tmp>/x.nc`` on the real model, once.

    Returns ``(result, nc_path, png_path)`` with click's ``Result``.
    """
    from click.testing import CliRunner

    from sdmodel.cli import main

    out = tmp_path_factory.mktemp("real_run") / "x.nc"
    result = CliRunner().invoke(main, ["run", "--scenario", "no_further_ai", "--out", str(out)])
    return result, out, out.with_name("x_overview.png")
