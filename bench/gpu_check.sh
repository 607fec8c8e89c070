#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): one table of every CUDA path; see README "GPU check". PYTHON=... picks the interpreter.
cd "$(dirname "$0")/.." && PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec "${PYTHON:-python}" bench/gpu_check.py "$@"
