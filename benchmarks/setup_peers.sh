#!/usr/bin/env bash
# Create the peers' benchmark venv: real Parsl, Dask distributed, ipyparallel.
# They are benchmark peers only; parsl_nb never depends on them.
#
#   bash benchmarks/setup_peers.sh                        # -> benchmarks/.venv-peers
#   PEERS_VENV=/tmp/peers bash benchmarks/setup_peers.sh  # somewhere else
#
# Then: python benchmarks/run.py --peer-python "$PEERS_VENV/bin/python"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${PEERS_VENV:-$here/.venv-peers}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet parsl "dask[distributed]" ipyparallel cloudpickle psutil
"$venv/bin/python" - <<'PY'
import importlib
for name in ("parsl", "dask", "distributed", "ipyparallel", "cloudpickle", "psutil"):
    mod = importlib.import_module(name)
    print(f"{name:12s} {getattr(mod, '__version__', '?')}")
PY
echo "peer python: $venv/bin/python"
