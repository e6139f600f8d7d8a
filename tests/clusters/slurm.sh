#!/usr/bin/env bash
# A single-host Slurm on loopback with emulated nodes, for tests and CI.
#
#   tests/clusters/slurm.sh start    install (if missing), configure, start, wait until nodes are idle
#   tests/clusters/slurm.sh stop     cancel every job, then stop slurmd(s), slurmctld and munged
#   tests/clusters/slurm.sh status   exit 0 when every daemon runs and every node is usable
#   tests/clusters/slurm.sh restart
#
# Environment: SLURM_NODES (emulated nodes c1..cN, default 4), SLURM_CPUS (per node,
# default 2). Idempotent: `start` on a running, unchanged cluster returns at once.
# Pitfalls and measurements: ../shared/notes/local-slurm.md.
set -euo pipefail
export CLUSTER_NAME=slurm
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

NODES=${SLURM_NODES:-4}
CPUS=${SLURM_CPUS:-2}
HOST=$(hostname -s)
CONF=/etc/slurm/slurm.conf
RUN=/run/slurm
SPOOL=/var/spool/slurm
LOGDIR=/var/log/slurm
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=$RUN/slurmctld.pid

node_names() { seq -f 'c%g' 1 "$NODES"; }
slurmd_pid() { echo "$RUN/slurmd-$1.pid"; }

slurm_conf() {
    cat <<CONF
# Written by tests/clusters/slurm.sh: a single-host test cluster, not for production.
ClusterName=parslnb
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
SwitchType=switch/none
# No cgroups on this machine kind.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=1
# Finished jobs stay visible to squeue -t all for 300 s.
MinJobAge=300
KillWait=2
InactiveLimit=0
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
StateSaveLocation=$SPOOL/ctld
SlurmctldPidFile=$CTLD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdSpoolDir=$SPOOL/d-%n
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmdLogFile=$LOGDIR/slurmd-%n.log
# Several slurmd on one host, each claiming $CPUS CPUs whatever the host has.
SlurmdParameters=config_overrides
NodeName=c[1-$NODES] NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[17001-$((17000 + NODES))] CPUs=$CPUS RealMemory=4000 Feature=emu State=UNKNOWN
PartitionName=debug Nodes=c[1-$NODES] Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=short Nodes=c1 MaxTime=60 State=UP
CONF
}

install() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null && return 0
    apt_install slurm-wlm munge
}

start_munge() {
    pid_alive "$MUNGE_PID" munged && return 0
    mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --keyfile=/etc/munge/munge.key >/dev/null
        chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    fi
    runuser -u munge -- munged --force --pid-file="$MUNGE_PID" || die "munged did not start; see /var/log/munge/munged.log"
    wait_for 5 munge munge -n || die "munge does not answer; see /var/log/munge/munged.log"
}

daemons_alive() {
    local n
    pid_alive "$MUNGE_PID" munged && pid_alive "$CTLD_PID" slurmctld || return 1
    for n in $(node_names); do pid_alive "$(slurmd_pid "$n")" slurmd || return 1; done
}

# True when every node is usable (idle, mixed or allocated; never down or drained).
nodes_ready() {
    local states
    states=$(sinfo -h -N -p debug -o '%t' 2>/dev/null) || return 1
    [ "$(wc -l <<<"$states")" -ge "$NODES" ] || return 1
    ! grep -qvE '^(idle|mix|alloc|comp)$' <<<"$states"
}

start() {
    require_root
    install
    mkdir -p "$RUN" "$SPOOL/ctld" "$LOGDIR" /etc/slurm
    if slurm_conf | write_if_changed "$CONF" && daemons_alive; then
        log "configuration changed; restarting"
        stop_daemons
    fi
    start_munge
    pid_alive "$CTLD_PID" slurmctld || slurmctld || die "slurmctld did not start; see $LOGDIR/slurmctld.log"
    wait_for 10 slurmctld scontrol ping || die "slurmctld does not answer; see $LOGDIR/slurmctld.log"
    local n
    for n in $(node_names); do
        pid_alive "$(slurmd_pid "$n")" slurmd || slurmd -N "$n" || die "slurmd $n did not start; see $LOGDIR/slurmd-$n.log"
    done
    if ! wait_for 20 nodes nodes_ready; then
        scontrol update NodeName="c[1-$NODES]" State=RESUME 2>/dev/null || true
        wait_for 10 nodes nodes_ready || { sinfo -N >&2; die "nodes are not idle; see $LOGDIR/slurmd-*.log"; }
    fi
    log "running: nodes c[1-$NODES] ($CPUS CPUs each), partitions debug (default) and short"
}

no_jobs_left() { [ -z "$(squeue -h -o '%i' 2>/dev/null)" ]; }

# Cancel every job and wait until none is left running or completing.
cancel_all_jobs() {
    pid_alive "$CTLD_PID" slurmctld || return 0
    local ids
    ids=$(squeue -h -o '%i' 2>/dev/null || true)
    [ -z "$ids" ] && return 0
    log "cancelling jobs: $(tr '\n' ' ' <<<"$ids")"
    # shellcheck disable=SC2086
    scancel $ids 2>/dev/null || true
    wait_for 20 "jobs to end" no_jobs_left \
        || log "jobs still listed after 20 s: $(squeue -h -o '%i %T' | tr '\n' ' ')"
}

stop_daemons() {
    local pidfile
    for pidfile in "$RUN"/slurmd-*.pid; do
        if [ -e "$pidfile" ]; then stop_pid "$pidfile" slurmd; fi
    done
    stop_pid "$CTLD_PID" slurmctld
    stop_pid "$MUNGE_PID" munged
}

stop() {
    require_root
    command -v slurmctld >/dev/null || { log "not installed; nothing to stop"; return 0; }
    cancel_all_jobs
    stop_daemons
    log "stopped"
}

status() {
    if daemons_alive && nodes_ready; then
        sinfo -N -o '%N %P %t %c %m %f'
        return 0
    fi
    log "not running (or nodes not ready)"
    return 1
}

main "$@"
