#!/usr/bin/env bash
# Install and start the test clusters that the `slurm` and `gridengine` tests use.
#
#   tests/clusters/setup.sh          start every cluster in $CLUSTERS (default: slurm gridengine)
#   tests/clusters/setup.sh stop     cancel their jobs and stop their daemons
#   tests/clusters/setup.sh status
#
# .ci/run calls it before the tests; with CI=true the cluster tests then fail, not
# skip, when a cluster is missing. Each cluster script is idempotent and returns in
# under a second when its packages are present and it already runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
action=${1:-start}
status=0
for cluster in ${CLUSTERS:-slurm gridengine}; do
    [ -x "$here/$cluster.sh" ] || { echo "setup.sh: unknown cluster '$cluster' (known: slurm gridengine)" >&2; exit 2; }
    start=$(date +%s%N)
    if "$here/$cluster.sh" "$action"; then
        echo "setup.sh: $cluster $action ok in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
    else
        echo "setup.sh: $cluster $action FAILED; rerun: $here/$cluster.sh $action" >&2
        status=1
    fi
done
exit $status
