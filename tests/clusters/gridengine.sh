#!/usr/bin/env bash
# A single-host Grid Engine (Debian's gridengine 8.1.9) on loopback, for tests and CI.
#
#   tests/clusters/gridengine.sh start    install (if missing), configure, start, wait until all.q is usable
#   tests/clusters/gridengine.sh stop     delete every job, then stop sge_execd and sge_qmaster
#   tests/clusters/gridengine.sh status   exit 0 when both daemons run and all.q takes jobs
#   tests/clusters/gridengine.sh restart
#
# Environment: GE_SLOTS (slots of all.q, default 4). Idempotent: `start` on a running,
# configured cluster returns at once. Clients find the cell through Debian's wrappers,
# or set SGE_ROOT=/var/lib/gridengine SGE_CELL=default.
# Pitfalls and measurements: ../shared/notes/local-slurm.md.
set -euo pipefail
export CLUSTER_NAME=gridengine
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
SLOTS=${GE_SLOTS:-4}
HOST=$(hostname -s)
COMMON=$SGE_ROOT/$SGE_CELL/common
QMASTER_PID=/var/spool/gridengine/qmaster/qmaster.pid
QUEUE=all.q

execd_pidfile() {
    local f
    for f in /var/spool/gridengine/execd/*/execd.pid; do [ -e "$f" ] && { echo "$f"; return 0; }; done
    echo /var/spool/gridengine/execd/none/execd.pid
}

install() {
    command -v qsub >/dev/null && [ -x /usr/sbin/sge_qmaster ] && [ -x /usr/sbin/sge_execd ] && return 0
    # The noninteractive install leaves the master host empty unless preseeded.
    local pkg
    for pkg in gridengine-common gridengine-master gridengine-client gridengine-exec; do
        printf '%s shared/gridenginemaster string %s\n%s shared/gridenginecell string default\n%s shared/gridengineconfig boolean true\n' \
            "$pkg" "$HOST" "$pkg" "$pkg" | debconf-set-selections
    done
    apt_install gridengine-master gridengine-exec gridengine-client
}

configure_files() {
    [ -s "$COMMON/act_qmaster" ] && grep -qx "$HOST" "$COMMON/act_qmaster" || echo "$HOST" >"$COMMON/act_qmaster"
    # 127.0.0.1 reverse-resolves to localhost; without the alias clients are refused.
    echo "$HOST localhost" | write_if_changed "$COMMON/host_aliases" || true
}

# set_conf SHOW_CMD MODIFY_CMD KEY VALUE...: change keys of a qconf configuration if needed.
set_conf() {
    local show=$1 modify=$2 tmp changed=0 key value out
    shift 2
    tmp=$(mktemp -d)/global
    $show >"$tmp"
    while [ $# -gt 0 ]; do
        key=$1 value=$2
        shift 2
        grep -qE "^$key +$value\$" "$tmp" && continue
        sed -i -E "s|^$key .*|$key $value|" "$tmp"
        changed=1
    done
    if [ $changed = 1 ] && ! out=$($modify "$tmp" 2>&1); then
        die "$modify failed: $out"
    fi
    rm -rf "$(dirname "$tmp")"
}

add_queue() {
    if ! qconf -sql 2>/dev/null | grep -qx "$QUEUE"; then
        local tmp
        tmp=$(mktemp)
        qconf -sq | sed -E -e "s|^qname .*|qname $QUEUE|" -e "s|^hostlist .*|hostlist $HOST|" -e "s|^pe_list .*|pe_list NONE|" >"$tmp"
        qconf -Aq "$tmp" >/dev/null 2>&1 || die "could not add queue $QUEUE; run: qconf -Aq $tmp"
        rm -f "$tmp"
    fi
    # The template names parallel environments that do not exist; the load alarm
    # threshold would stop scheduling on a busy 2-core machine.
    set_queue_attr pe_list NONE
    set_queue_attr slots "$SLOTS"
    set_queue_attr load_thresholds NONE
    set_queue_attr shell /bin/bash
    set_queue_attr shell_start_mode unix_behavior
}

set_queue_attr() {
    qconf -sq "$QUEUE" | grep -qE "^$1 +$2\$" && return 0
    qconf -rattr queue "$1" "$2" "$QUEUE" >/dev/null 2>&1 || die "could not set $1=$2 on $QUEUE; run: qconf -rattr queue $1 $2 $QUEUE"
}

# True when the queue instance on this host has no state flags (not unknown, alarm, disabled).
queue_ready() {
    local line
    line=$(qstat -f -q "$QUEUE" 2>/dev/null | awk -v q="$QUEUE@" 'index($1, q) == 1') || return 1
    [ -n "$line" ] && [ "$(awk '{print NF}' <<<"$line")" -eq 5 ]
}

start() {
    require_root
    install
    configure_files
    if ! pid_alive "$QMASTER_PID" sge_qmaster; then
        /usr/sbin/sge_qmaster || die "sge_qmaster did not start; see /var/spool/gridengine/qmaster/messages"
    fi
    wait_for 15 sge_qmaster qstat || die "sge_qmaster does not answer; see /var/spool/gridengine/qmaster/messages"
    # Root is refused below min_uid; execd caches this, so set it before execd starts.
    # unix_behavior: run the script under its #! line, not a login shell (profiles can block, e.g. pyenv rehash).
    set_conf "qconf -sconf global" "qconf -Mconf" min_uid 0 min_gid 0 shell_start_mode unix_behavior
    set_conf "qconf -ssconf" "qconf -Msconf" schedule_interval 0:0:1 flush_submit_sec 1 flush_finish_sec 1
    qconf -ss 2>/dev/null | grep -qx "$HOST" || qconf -as "$HOST" >/dev/null
    if ! pid_alive "$(execd_pidfile)" sge_execd; then
        /usr/sbin/sge_execd || die "sge_execd did not start; see /var/spool/gridengine/execd/*/messages"
    fi
    wait_for 15 "execution host" bash -c "qconf -sel 2>/dev/null | grep -qx '$HOST'" \
        || die "$HOST did not register as execution host; see /var/spool/gridengine/execd/*/messages"
    add_queue
    wait_for 30 "queue $QUEUE" queue_ready || { qstat -f >&2; die "queue $QUEUE is not usable; see qstat -f"; }
    log "running: queue $QUEUE@$HOST with $SLOTS slots"
}

delete_all_jobs() {
    pid_alive "$QMASTER_PID" sge_qmaster || return 0
    local ids
    ids=$(qstat -u '*' 2>/dev/null | awk 'NR > 2 {print $1}' | sort -u)
    [ -z "$ids" ] && return 0
    log "deleting jobs: $(tr '\n' ' ' <<<"$ids")"
    # shellcheck disable=SC2086
    qdel $ids >/dev/null 2>&1 || true
    if ! wait_for 10 "jobs to end" no_jobs_left; then
        # shellcheck disable=SC2086
        qdel -f $ids >/dev/null 2>&1 || true
        wait_for 10 "jobs to end" no_jobs_left || log "jobs still listed: $(qstat -u '*' | awk 'NR > 2' | tr '\n' ' ')"
    fi
}

execd_gone() { ! pid_alive "$1" sge_execd; }
qmaster_gone() { ! pid_alive "$QMASTER_PID" sge_qmaster; }

no_jobs_left() { [ -z "$(qstat -u '*' 2>/dev/null)" ]; }

stop() {
    require_root
    [ -x /usr/sbin/sge_qmaster ] || { log "not installed; nothing to stop"; return 0; }
    delete_all_jobs
    local execd_pid
    execd_pid=$(execd_pidfile)
    # The daemons' own shutdown first (sge_qmaster ignores SIGTERM for seconds), then signals.
    if pid_alive "$execd_pid" sge_execd && pid_alive "$QMASTER_PID" sge_qmaster; then
        qconf -ke "$HOST" >/dev/null 2>&1 || true
        wait_for 5 "sge_execd to exit" execd_gone "$execd_pid" || true
    fi
    stop_pid "$execd_pid" sge_execd
    if pid_alive "$QMASTER_PID" sge_qmaster; then
        qconf -km >/dev/null 2>&1 || true
        # Its controlled shutdown waits for its threads: about 9 s here.
        wait_for 15 "sge_qmaster to exit" qmaster_gone || true
    fi
    stop_pid "$QMASTER_PID" sge_qmaster
    log "stopped"
}

status() {
    if pid_alive "$QMASTER_PID" sge_qmaster && pid_alive "$(execd_pidfile)" sge_execd && queue_ready; then
        qstat -f -q "$QUEUE"
        return 0
    fi
    log "not running (or queue $QUEUE not ready)"
    return 1
}

main "$@"
