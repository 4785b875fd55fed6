#!/usr/bin/env bash
# Run the whole test suite with the project's virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1
exec .venv/bin/python -m pytest "$@"
