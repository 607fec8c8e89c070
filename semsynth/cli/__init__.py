"""`semsynth <command>`: thin layers over the Python API, one file per command group."""
