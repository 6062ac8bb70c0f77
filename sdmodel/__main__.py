"""``python -m sdmodel``: the same command line as the ``sdmodel`` script."""

from sdmodel.cli import main

main()
