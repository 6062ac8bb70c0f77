"""Files: where things live, atomic writes, TOML input, CF-NetCDF and ensemble writers."""
