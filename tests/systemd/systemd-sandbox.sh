#!/bin/bash
# systemd-sandbox.sh - boot a throw-away systemd (PID 1) container for testing
# real *system* services on a host whose PID 1 is not systemd.
#
#   systemd-sandbox.sh up [ROOTDIR]   boot the sandbox (no-op if already up)
#   systemd-sandbox.sh exec -- CMD... run CMD inside (systemctl, journalctl, ...)
#   systemd-sandbox.sh push SRC DEST  copy a host file/dir into the sandbox
#   systemd-sandbox.sh status         print state; exit 0 if up
#   systemd-sandbox.sh down           power off and remove everything (no-op if down)
#
# How it works
#   * The container root is an overlayfs: lower = the host's own "/" (read-only,
#     live), upper = a tmpfs.  Nothing the container writes reaches the host disk.
#   * ROOTDIR (optional) is a staging tree, like a DESTDIR
#     (e.g. ROOTDIR/usr/local/sbin/foo, ROOTDIR/etc/systemd/system/foo.service);
#     it is copied into the overlay before boot, so the units are there at
#     boot.  (It cannot be a second overlay lower layer: the kernel rejects
#     lower layers nested inside "/" - "overlapping lowerdir path".)
#     It is unpacked *through* the overlay with tar --keep-directory-symlink,
#     so that ROOTDIR/lib/systemd/system (where pkg-config puts units for the
#     prefix /usr) lands in /usr/lib/systemd/system of a merged-/usr host
#     instead of hiding the /lib -> usr/lib symlink.
#
# tcpstated's copy of shared/tools/systemd-sandbox.sh, so that the test
# suite stands on its own; changes: the ROOTDIR copy above.
#   * systemd-nspawn --boot runs /usr/lib/systemd/systemd as PID 1 in new
#     pid/mount/uts/ipc/cgroup namespaces and, by default, a private network
#     namespace (loopback only).
#   * The launcher runs in its own private mount namespace (unshare -m): the
#     tmpfs, the overlay and nspawn's /run/systemd/nspawn bookkeeping vanish
#     with it, even after SIGKILL; nothing is mounted in the host namespace.
#   * When the host's PID 1 is not systemd, nspawn runs with --register=no
#     --keep-unit and creates payload/ and supervisor/ cgroups below the cgroup
#     it was started in; we start it in a dedicated cgroup (…/sysd-sandbox-NAME
#     in the name=systemd and cgroup2 hierarchies) and remove that on "down".
#
# Environment knobs
#   SANDBOX_NAME      machine name                  (default: sysd-sandbox)
#   SANDBOX_STATE     state dir on the host         (default: /tmp/systemd-sandbox-$SANDBOX_NAME)
#   SANDBOX_NET       private | host                (default: private)
#   SANDBOX_LOWER     read-only lower layer (default: /, the host's own OS;
#                     or e.g. a debootstrap --variant=minbase tree)
#   SANDBOX_TARGET    unit to boot                  (default: multi-user.target)
#   SANDBOX_MASK      units to mask at boot, space-separated
#   SANDBOX_UNMASK    a case pattern of host-enabled units NOT to mask (e.g. "prometheus*")
#                     (default: every non-target unit enabled on the host
#                      under /etc/systemd/system/*.wants, e.g. postgresql)
#   SANDBOX_BOOT_TIMEOUT  seconds to wait for boot  (default: 90)
#   SANDBOX_JOURNAL_OUT   if set, "down" first copies the container's journal
#                         files (and console.log) there; read them on the host
#                         with: journalctl -D DIR -u UNIT ...
#   SANDBOX_NSPAWN_ARGS   extra systemd-nspawn arguments (word-split), e.g.
#                         "--bind-ro=/srv/project"
set -euo pipefail

NAME=${SANDBOX_NAME:-sysd-sandbox}
STATE=${SANDBOX_STATE:-/tmp/systemd-sandbox-$NAME}
NET=${SANDBOX_NET:-private}
TARGET=${SANDBOX_TARGET:-multi-user.target}
LOWER=$(readlink -f "${SANDBOX_LOWER:-/}")
BOOT_TIMEOUT=${SANDBOX_BOOT_TIMEOUT:-90}
SANDBOX_UNMASK=${SANDBOX_UNMASK:-}
CGNAME="sysd-sandbox-$NAME"
SELF=$(readlink -f "$0")
# Environment for commands run inside: clean, no pager, predictable locale.
INNER_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
           HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_LESS=)

log() { echo "systemd-sandbox: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# --------------------------------------------------------------- dependencies
ensure_deps() {
    local need=()
    command -v systemd-nspawn >/dev/null || need+=(systemd-container)
    command -v nsenter >/dev/null && command -v unshare >/dev/null || need+=(util-linux)
    [ -x /usr/lib/systemd/systemd ] || need+=(systemd)
    [ ${#need[@]} -eq 0 ] && return 0
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # NB: systemd-container pins systemd to the same version, so this may also
    # upgrade the host's systemd/libsystemd0 packages (harmless without PID-1 systemd).
    apt-get install -y -q --no-install-recommends "${need[@]}" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need[@]}" >&2; }
}

# ------------------------------------------------------------------- helpers
# PID of our systemd-nspawn, if it is alive and really ours.
nspawn_pid() {
    local pid
    pid=$(cat "$STATE/nspawn.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd-nspawn ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "--machine=$NAME " || return 1
    echo "$pid"
}

# PID (host view) of the container's PID 1: the child of nspawn that lives in
# another PID namespace.
leader_pid() {
    local np c
    local st rest ppid myns
    np=$(nspawn_pid) || return 1
    myns=$(readlink /proc/self/ns/pid)
    # (/proc/PID/task/*/children needs CONFIG_PROC_CHILDREN, absent here, and
    # procps may be missing on a minimal host: scan /proc/*/stat.)
    for st in /proc/[0-9]*/stat; do
        read -r rest < "$st" 2>/dev/null || continue
        rest=${rest##*) }; rest=${rest#* }; ppid=${rest%% *}
        [ "$ppid" = "$np" ] || continue
        c=${st#/proc/}; c=${c%/stat}
        if [ "$(readlink /proc/"$c"/ns/pid 2>/dev/null)" != "$myns" ]; then
            echo "$c"; return 0
        fi
    done
    return 1
}

# Run a command inside the container (all its namespaces, clean environment).
# The command is a child of nsenter, which forks into the container's PID
# namespace; it stays in the caller's cgroup (use "systemd-run --wait --pipe"
# inside if it must run in a unit).
inside() {
    local l
    l=$(leader_pid) || die "sandbox '$NAME' is not running (use: $0 up)"
    ${INSIDE_TIMEOUT:+timeout "$INSIDE_TIMEOUT"} \
        nsenter --target "$l" --all "${INNER_ENV[@]}" "$@"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# cgroup dirs we use: named systemd v1 hierarchy + cgroup2 (hybrid), or the
# cgroup2 root on a pure-unified host.
cgroup_dirs() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        echo "/sys/fs/cgroup/$CGNAME"
    else
        [ -d /sys/fs/cgroup/systemd ] && echo "/sys/fs/cgroup/systemd/$CGNAME"
        [ -f /sys/fs/cgroup/unified/cgroup.procs ] && echo "/sys/fs/cgroup/unified/$CGNAME"
    fi
    return 0
}

host_has_systemd() { [ -d /run/systemd/system ]; }

default_masks() {
    local f u
    for f in /etc/systemd/system/*.wants/*; do
        [ -e "$f" ] || continue
        u=${f##*/}
        case $u in *.target|systemd-*|dbus*|*.socket|$SANDBOX_UNMASK) continue ;; esac
        echo "$u"
    done | sort -u | tr '\n' ' '
}

# ---------------------------------------------------------------- _launch
# Runs inside "unshare -m" (private mount namespace); execs systemd-nspawn.
do_launch() {
    local rootdir=$1 mask u cg
    echo $$ > "$STATE/nspawn.pid"          # exec keeps the PID
    # Put ourselves (and thus nspawn + container) in a dedicated cgroup.
    if ! host_has_systemd; then
        for cg in $(cgroup_dirs); do
            mkdir -p "$cg" && echo $$ > "$cg/cgroup.procs" ||
                log "warning: could not join $cg"
        done
    fi
    # Keep nspawn's bookkeeping (/run/systemd/nspawn/{locks,propagate}) off
    # the host: /run is on the root disk here, and nspawn refuses to clean it
    # ("Attempted to remove disk file system ... we can't allow that").
    if [ -d /run/systemd ]; then mount -t tmpfs -o mode=755 sandbox-run /run/systemd
    else mount -t tmpfs -o mode=755 sandbox-run /run; fi
    # Writable layer on tmpfs, host / as read-only lower layer.
    mount -t tmpfs -o mode=755 sandbox-upper "$STATE/upper"
    mkdir -p "$STATE/upper/data" "$STATE/upper/work"
    # Own machine id, so the container's journal is not confused with the host's.
    mkdir -p "$STATE/upper/data/etc"
    systemd-id128 new > "$STATE/upper/data/etc/machine-id"
    mount -t overlay sandbox-root \
        -o "lowerdir=$LOWER,upperdir=$STATE/upper/data,workdir=$STATE/upper/work" "$STATE/root"
    if [ -n "$rootdir" ]; then
        tar -C "$rootdir" -cf - . |
            tar -C "$STATE/root" -xf - --keep-directory-symlink --no-overwrite-dir
    fi

    local args=(--quiet --directory="$STATE/root" --machine="$NAME" --boot
                --register=no --console=read-only --link-journal=no
                --resolv-conf=copy-host --timezone=copy)
    host_has_systemd || args+=(--keep-unit)
    [ "$NET" = private ] && args+=(--private-network)
    # shellcheck disable=SC2206
    args+=(${SANDBOX_NSPAWN_ARGS:-})
    # Arguments after the directory go to the container's systemd; inside a
    # container systemd reads them as its "kernel command line".
    args+=(systemd.unit="$TARGET" systemd.firstboot=off)
    if [ "$LOWER" = / ]; then mask=${SANDBOX_MASK-$(default_masks)}; else mask=${SANDBOX_MASK:-}; fi
    for u in $mask; do args+=(systemd.mask="$u"); done
    exec systemd-nspawn "${args[@]}"
}

# -------------------------------------------------------------------- up
do_up() {
    local rootdir=${1:-} t0 state lp
    [ -z "$rootdir" ] || [ -d "$rootdir" ] || die "ROOTDIR '$rootdir' is not a directory"
    [ -z "$rootdir" ] || rootdir=$(readlink -f "$rootdir")
    if leader_pid >/dev/null; then
        log "sandbox '$NAME' already up"
        return 0
    fi
    [ -e "$STATE" ] && do_down          # stale leftovers from a crashed run
    ensure_deps
    t0=$(now_ms)
    mkdir -p "$STATE/root" "$STATE/upper"
    # setsid: own session, so the container survives the caller's shell and
    # job-control signals; fd 9 (our flock) is not inherited.
    setsid unshare --mount --propagation private \
        "$SELF" _launch "$rootdir" </dev/null >"$STATE/console.log" 2>&1 9>&- &
    # Wait for PID 1 to come up, then for the boot transaction to finish.
    local deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
    local bg=$! t_start
    t_start=$(date +%s)
    until leader_pid >/dev/null && inside systemctl show -p Version --value >/dev/null 2>&1; do
        lp=$(cat "$STATE/nspawn.pid" 2>/dev/null || true)
        # Dead launcher: pid file written and process gone, or no pid file and
        # the background job gone for a while (setsid might have forked).
        if [ "$(date +%s)" -ge "$deadline" ] ||
           { [ -n "$lp" ] && ! kill -0 "$lp" 2>/dev/null; } ||
           { [ -z "$lp" ] && ! kill -0 "$bg" 2>/dev/null && [ $(( $(date +%s) - t_start )) -ge 5 ]; }; then
            cat "$STATE/console.log" >&2 || true
            do_down; die "sandbox did not come up"
        fi
        sleep 0.2
    done
    state=$(INSIDE_TIMEOUT=$BOOT_TIMEOUT inside systemctl is-system-running --wait 2>/dev/null) || true
    log "up in $(( $(now_ms) - t0 )) ms, state: ${state:-unknown}"
    case $state in
        running) ;;
        degraded) log "warning: failed units:"; inside systemctl --failed --no-legend >&2 || true ;;
        *) cat "$STATE/console.log" >&2; do_down; die "boot did not finish (state '$state')" ;;
    esac
}

# ------------------------------------------------------------------ down
do_down() {
    local np l i cg
    if np=$(nspawn_pid); then
        if [ -n "${SANDBOX_JOURNAL_OUT:-}" ] && leader_pid >/dev/null; then
            mkdir -p "$SANDBOX_JOURNAL_OUT"
            inside journalctl --sync 2>/dev/null || true
            # journald writes to /var/log/journal if that dir exists in the
            # image (it does on this host; then it is on the tmpfs upper
            # layer), else to /run/log/journal.  Both die with the container.
            inside sh -c 'for d in /var/log/journal /run/log/journal; do
                              [ -n "$(ls -A $d 2>/dev/null)" ] && exec tar -C $d -cf - .; done' |
                tar -C "$SANDBOX_JOURNAL_OUT" -xf - || true
            cp "$STATE/console.log" "$SANDBOX_JOURNAL_OUT/console.log" 2>/dev/null || true
        fi
        l=$(leader_pid || true)
        # SIGTERM to nspawn = orderly "poweroff" of the container.
        kill -TERM "$np" 2>/dev/null || true
        for i in $(seq 1 150); do kill -0 "$np" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$np" 2>/dev/null; then
            log "warning: container did not stop in 30s, killing it"
            # Killing the PID-namespace init kills everything inside it.
            [ -n "$l" ] && kill -KILL "$l" 2>/dev/null || true
            sleep 0.5
            kill -KILL "$np" 2>/dev/null || true
        fi
        for i in $(seq 1 50); do kill -0 "$np" 2>/dev/null || break; sleep 0.1; done
    fi
    # Anything still in our cgroup is a leftover of this sandbox (e.g. nspawn
    # itself was SIGKILLed and the container's PID 1 orphaned): kill it.
    local pids
    for i in 1 2 3; do
        pids=$(for cg in $(cgroup_dirs); do
                   [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} +; done | sort -u)
        [ -z "$pids" ] && break
        log "killing leftover sandbox processes: $(echo $pids)"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.5
    done
    # Remove our cgroups (children first).  They are empty once nspawn is gone.
    for cg in $(cgroup_dirs); do
        [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -d "$cg" ] && log "warning: could not remove cgroup $cg"
    done
    # Mounts lived in the launcher's private mount namespace, so they are gone;
    # guard anyway before deleting, never recurse into a mounted tree.
    if [ -d "$STATE" ]; then
        if findmnt -rn -o TARGET | grep -q "^$STATE"; then
            die "something is still mounted under $STATE, not removing it"
        fi
        rm -rf --one-file-system "$STATE"
    fi
    return 0
}

# ------------------------------------------------------------------ main
cmd=${1:-}; shift || true
case $cmd in
    _launch) do_launch "${1:-}"; exit ;;
esac

# Serialise up/down/status: flock on the state's parent directory itself, so
# no lock file is left behind.
mkdir -p "$(dirname "$STATE")"
exec 9<"$(dirname "$STATE")"
case $cmd in
    up|down) flock 9 ;;
    *) flock -s 9 ;;
esac

case $cmd in
    up)     do_up "${1:-}" ;;
    down)   do_down; log "down" ;;
    exec)   [ "${1:-}" = -- ] && shift
            [ $# -gt 0 ] || die "usage: $0 exec -- CMD [ARGS...]"
            exec 9>&-; inside "$@" ;;
    push)   [ $# -eq 2 ] || die "usage: $0 push SRC DEST"
            src=$(readlink -f "$1"); dest=$2
            exec 9>&-
            if [ -d "$src" ]; then
                tar -C "$src" -cf - . | inside sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "$dest"
            else
                inside sh -c 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"' \
                    sh "$dest" "$(stat -c %a "$src")" < "$src"
            fi ;;
    status) if l=$(leader_pid); then
                echo "up: nspawn=$(nspawn_pid) pid1=$l state=$(inside systemctl is-system-running || true)"
            else echo "down"; exit 1; fi ;;
    *)      sed -n '2,9p' "$SELF" >&2; exit 2 ;;
esac
