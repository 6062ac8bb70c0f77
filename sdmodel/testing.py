"""Public assertion helpers for files this package writes (in the spirit of xarray.testing)
and for its command line.

The CF check needs the test extras (``compliance-checker``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "SKIPPED_CF_CHECKS",
    "assert_cf_compliant",
    "assert_user_error",
    "cf_compliance",
    "file_contents",
]

#: Checks skipped in the IOOS CF checker: compliance-checker 6.1 crashes on string
#: coordinates (``skill``, ``scenario``) in this check; the tests check monotonic time and
#: unique labels themselves.
SKIPPED_CF_CHECKS = ("check_coordinate_variables_strict_monotonicity",)

#: CF 2.4 recommends ("should, whenever possible") that dimensions other than T, Z, Y, X go
#: left of them; the project stores time first instead, because CDO reads nothing else
#: (the file layout in :mod:`sdmodel.io.netcdf`). The checker's message for exactly that
#: layout (time, then only dimensions it types "U") is waived; any other dimension-order
#: finding still fails.
_TIME_FIRST = re.compile(
    r"spatio-temporal dimensions are not in the recommended order .* "
    r"The dimensions \(and their guessed types\) are time \(T\)(, \w+ \(U\))* \(with U"
)


def _waived(message: str) -> bool:
    return _TIME_FIRST.search(message) is not None


def cf_compliance(path: str | os.PathLike, version: str = "1.10") -> tuple[list, dict]:
    """Run the IOOS compliance checker's CF check on a file.

    Returns
    -------
    failed, errors
        ``(check name, messages)`` for every failed check, and the checker's errors
        (checks that raised) by name. The CF 2.4 recommendation against time first is
        waived (see ``_TIME_FIRST``); every other finding counts.
    """
    from compliance_checker.runner import CheckSuite

    suite = CheckSuite()
    suite.load_all_available_checkers()
    dataset = suite.load_dataset(str(path))
    try:
        groups, errors = suite.run_all(
            dataset, [f"cf:{version}"], skip_checks=list(SKIPPED_CF_CHECKS)
        )[f"cf:{version}"]
    finally:
        dataset.close()  # a checker handle left open crashes later netCDF4 opens (HDF5)
    failed = []
    for r in groups:
        if (isinstance(r.value, tuple) and r.value[0] < r.value[1]) or r.value is False:
            msgs = [m for m in r.msgs if not _waived(m)]
            if msgs or not r.msgs:
                failed.append((r.name, msgs or r.msgs))
    return failed, errors


def assert_cf_compliant(path: str | os.PathLike, version: str = "1.10") -> None:
    """Assert that ``path`` passes the CF checker with no failed check and no error."""
    failed, errors = cf_compliance(path, version)
    assert not errors, f"{path}: CF checker errors {errors}"
    assert not failed, f"{path}: failed CF checks {failed}"


def file_contents(path: str | os.PathLike) -> dict:
    """A NetCDF file's contents, for bitwise comparisons of two files.

    Returns
    -------
    dict
        Per variable (dims, dtype, data bytes, attributes); ``"global"``: the global
        attributes except ``history`` (it has time stamps).
    """
    import netCDF4
    import numpy as np

    out: dict = {}
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        out["global"] = {k: str(nc.getncattr(k)) for k in nc.ncattrs() if k != "history"}
        for name, var in nc.variables.items():
            data = np.asarray(var[:])
            raw = data.tobytes() if data.dtype.kind != "O" else repr(data.tolist()).encode()
            out[name] = (var.dimensions, str(data.dtype), raw, repr(var.__dict__))
    return out


def assert_user_error(
    result, culprit: str, out: str | os.PathLike, *, out_existed: bool = False
) -> None:
    """Assert that a CLI call failed as a user error and left no output behind.

    A user error exits with status 2, prints exactly one line on stderr that starts with
    ``sdmodel: error:`` and names the culprit, and prints nothing on stdout.

    Parameters
    ----------
    result : click.testing.Result
        What ``CliRunner().invoke`` returned.
    culprit
        Text the error line must contain (a file, a key, a value).
    out
        The output path the command was given.
    out_existed
        ``False``: ``out`` must not exist afterwards. ``True``: ``out`` is a directory the
        test made before the call; it must still be there, and empty.
    """
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sdmodel: error:") and culprit in lines[0], lines[0]
    assert result.stdout == ""
    out = Path(out)
    if out_existed:
        assert out.is_dir(), f"{out} removed"
        assert sorted(p.name for p in out.iterdir()) == [], "output left behind"
    else:
        assert not out.exists(), "output left behind"
