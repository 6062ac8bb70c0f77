"""Draw the two regimes of the central scenario for the README (``docs/figures/regimes.png``).

Usage: ``python scripts/regime_figure.py [--out docs/figures/regimes.png]``

Left: unemployment 2024-2050 in the 1,000-run central sweep, the runs that are absorbed
by 2040 (within 0.5 pp of their no-AI path) and those with lasting displacement (above 6%
in 2040), median and 10-90% band of each, with the no-AI path and the Korinek-Suh stress
run. Right: the middle group's real wage relative to the no-AI path, same runs. The runs
and regimes are those of ``scripts/regimes.py`` (the README's regime table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from regimes import regimes, sweep  # noqa: E402

from sdmodel.io.atomic import atomic_path  # noqa: E402
from sdmodel.io.paths import PROJECT_ROOT  # noqa: E402

COLOURS = {"absorbed": "#1b7837", "lasting": "#b2182b"}
LABELS = {"absorbed": "absorbed by 2040", "lasting": "lasting displacement (>6% in 2040)"}
MIDDLE = 1  # index of the middle group on the skill axis


def draw(out: Path) -> None:
    data = sweep()
    masks = regimes(data)
    t = data["time"]
    fig, (ax_u, ax_w) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    real = (
        data["central"]["Real wage"][:, :, MIDDLE]
        / data["no_further_ai"]["Real wage"][:, :, MIDDLE]
    )
    for key in ("lasting", "absorbed"):
        m = masks[key]
        share = m.mean()
        for ax, values in ((ax_u, 100 * data["central"]["Unemployment rate"][m]), (ax_w, real[m])):
            lo, mid, hi = np.percentile(values, [10, 50, 90], axis=0)
            ax.fill_between(t, lo, hi, color=COLOURS[key], alpha=0.2, lw=0)
            ax.plot(t, mid, color=COLOURS[key], lw=2, label=f"{LABELS[key]}: {share:.0%} of runs")
    ax_u.plot(t, 100 * data["baseline"]["Unemployment rate"], "k:", lw=1.5, label="no further AI")
    ax_u.plot(
        t,
        100 * data["stress"]["Unemployment rate"],
        "k--",
        lw=1.2,
        label="stress: no reinstatement, ceilings 1, explosive",
    )
    stress_real = data["stress"]["Real wage"][:, MIDDLE] / data["baseline"]["Real wage"][:, MIDDLE]
    ax_w.plot(t, stress_real, "k--", lw=1.2)
    ax_w.axhline(1.0, color="k", ls=":", lw=1.5)
    ax_u.set(title="Unemployment rate, central scenario (1,000 runs)", ylabel="%", xlabel="year")
    ax_w.set(title="Middle group's real wage relative to its no-AI path", xlabel="year")
    ax_u.legend(fontsize=8, loc="upper right")
    for ax in (ax_u, ax_w):
        ax.grid(alpha=0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "docs" / "figures" / "regimes.png"
    )
    draw(parser.parse_args().out)


if __name__ == "__main__":
    main()
