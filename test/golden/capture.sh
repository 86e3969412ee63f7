#!/usr/bin/env bash
# capture.sh — capture golden VRRP adverts from the real keepalived, on a veth
# pair between two throw-away network namespaces.
#
#   vgold-a-<pid>  va0  192.0.2.1/24  2001:db8::1/64  fe80::1  keepalived (MASTER)
#        |  veth
#   vgold-b-<pid>  vb0  192.0.2.2/24  2001:db8::2/64  fe80::2  tcpdump
#
# Writes, next to this script: <scenario>.pcap and <scenario>.hex (one line per
# packet: the whole IP packet, Ethernet header stripped, lowercase hex).
#
# Needs root, keepalived, tcpdump, tshark, iproute2, python3.
# Nothing is done in the root network namespace: the veth pair is created from
# inside vgold-a, all addresses and sysctls are set inside the namespaces.
# Everything it creates (namespaces, keepalived, tcpdump, temp dir) is removed
# on exit, whatever the exit path.
#
# Usage: [VERBOSE=1] [PACKETS=4] test/golden/capture.sh [scenario...]   (default: all)
#   scenarios: v2-noauth v2-pass v3-ipv4 v3-ipv6 v3-ipv4-unicast v2-prio0
set -euo pipefail

OUT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PACKETS=${PACKETS:-4}          # adverts per capture
CAPTURE_TIMEOUT=${CAPTURE_TIMEOUT:-30}   # seconds to wait for a capture

# Unique per run, so a concurrent or crashed run never collides with this one.
NS_A="vgold-a-$$"
NS_B="vgold-b-$$"
WORK=""
KA_PID=""
TD_PID=""

log() { printf 'capture.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Kill a pid we started (and wait for it), quietly if it is already gone.
stop_pid() {
    local pid=$1 sig=${2:-TERM}
    [[ -n "$pid" ]] || return 0
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? ns pid
    set +e
    trap - EXIT INT TERM HUP
    stop_pid "$KA_PID"
    stop_pid "$TD_PID"
    # Anything still running inside our namespaces was started by us.
    for ns in "$NS_A" "$NS_B"; do
        if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do
                stop_pid "$pid" TERM
            done
            ip netns del "$ns" 2>/dev/null || log "warning: could not delete netns $ns"
        fi
    done
    [[ -n "$WORK" && -d "$WORK" ]] && rm -rf -- "$WORK"
    if [[ $rc -ne 0 ]]; then log "failed (exit $rc); cleaned up"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

[[ $EUID -eq 0 ]] || die "must run as root (network namespaces)"
for tool in keepalived tcpdump tshark ip python3; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y $tool)"
done

WORK=$(mktemp -d -t vgold.XXXXXXXXXX)
mkdir -p "$WORK/conf" "$WORK/run" "$WORK/cap"

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

setup_netns() {
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    in_a ip link set lo up
    in_b ip link set lo up
    # Created inside A, peer moved straight into B: nothing appears in the root netns.
    in_a ip link add va0 address 02:00:00:00:0a:01 type veth \
        peer name vb0 address 02:00:00:00:0b:01 netns "$NS_B"
    # Fixed link-local addresses, no DAD, so the IPv6 source is deterministic.
    in_a sysctl -qw net.ipv6.conf.va0.accept_dad=0
    in_b sysctl -qw net.ipv6.conf.vb0.accept_dad=0
    in_a ip link set va0 addrgenmode none
    in_b ip link set vb0 addrgenmode none
    in_a ip addr add 192.0.2.1/24 dev va0
    in_b ip addr add 192.0.2.2/24 dev vb0
    in_a ip -6 addr add fe80::1/64 dev va0 nodad
    in_b ip -6 addr add fe80::2/64 dev vb0 nodad
    in_a ip -6 addr add 2001:db8::1/64 dev va0 nodad
    in_b ip -6 addr add 2001:db8::2/64 dev vb0 nodad
    in_a ip link set va0 up
    in_b ip link set vb0 up
}

# ---------------------------------------------------------------- configs
# One keepalived.conf per scenario, kept inline. README.md quotes them.

conf_v2_noauth() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 2
}
vrrp_instance V2_NOAUTH {
    state MASTER
    interface va0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24
    }
}
EOF
}

conf_v2_pass() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 2
}
vrrp_instance V2_PASS {
    state MASTER
    interface va0
    virtual_router_id 52
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
}
EOF
}

conf_v3_ipv4() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 3
}
vrrp_instance V3_IPV4 {
    state MASTER
    interface va0
    virtual_router_id 53
    priority 150
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24
    }
}
EOF
}

conf_v3_ipv6() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 3
}
vrrp_instance V3_IPV6 {
    state MASTER
    interface va0
    virtual_router_id 54
    priority 150
    advert_int 1
    virtual_ipaddress {
        2001:db8::100/64
    }
}
EOF
}

conf_v3_ipv4_unicast() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 3
}
vrrp_instance V3_IPV4_UNICAST {
    state MASTER
    interface va0
    virtual_router_id 55
    priority 150
    advert_int 1
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
}
EOF
}

conf_v2_prio0() { cat <<'EOF'
global_defs {
    router_id vgold
    vrrp_version 2
}
vrrp_instance V2_PRIO0 {
    state MASTER
    interface va0
    virtual_router_id 56
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
EOF
}

# ---------------------------------------------------------------- running

start_keepalived() {
    local name=$1
    local conf="$WORK/conf/$name.conf"
    "conf_${name//-/_}" >"$conf"
    in_a keepalived --config-test -f "$conf" >"$WORK/$name.config-test.log" 2>&1 ||
        { cat "$WORK/$name.config-test.log" >&2; die "$name: keepalived rejected its config"; }
    # Not through in_a: a backgrounded function is a subshell, and $! must be
    # keepalived itself (ip netns exec execs it) so SIGTERM reaches it.
    ip netns exec "$NS_A" keepalived -n -l -D -G -P \
        -f "$conf" \
        -p "$WORK/run/$name.keepalived.pid" \
        -r "$WORK/run/$name.vrrp.pid" \
        -c "$WORK/run/$name.checkers.pid" \
        >"$WORK/$name.keepalived.log" 2>&1 &
    KA_PID=$!
}

stop_keepalived() {
    local name=$1
    stop_pid "$KA_PID" TERM
    KA_PID=""
    if [[ "${VERBOSE:-0}" != 0 ]]; then
        log "$name: keepalived log:"
        sed 's/^/    /' "$WORK/$name.keepalived.log" >&2
    fi
}

# start_tcpdump NAME COUNT FILTER — returns once tcpdump is listening
start_tcpdump() {
    local name=$1 count=$2 filter=$3
    ip netns exec "$NS_B" tcpdump -i vb0 -n -U -c "$count" -w "$WORK/cap/$name.pcap" "$filter" \
        >"$WORK/$name.tcpdump.log" 2>&1 &
    TD_PID=$!
    for _ in $(seq 1 50); do
        grep -q 'listening on' "$WORK/$name.tcpdump.log" 2>/dev/null && return 0
        kill -0 "$TD_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/$name.tcpdump.log" >&2
    die "$name: tcpdump did not start"
}

# wait_tcpdump NAME — wait for tcpdump to reach its -c count
wait_tcpdump() {
    local name=$1
    for _ in $(seq 1 $((CAPTURE_TIMEOUT * 10))); do
        if ! kill -0 "$TD_PID" 2>/dev/null; then
            wait "$TD_PID" || die "$name: tcpdump failed: $(cat "$WORK/$name.tcpdump.log")"
            TD_PID=""
            return 0
        fi
        sleep 0.1
    done
    log "$name: keepalived log:"; cat "$WORK/$name.keepalived.log" >&2 || true
    die "$name: no capture within ${CAPTURE_TIMEOUT}s"
}

wait_master() {
    local name=$1
    for _ in $(seq 1 $((CAPTURE_TIMEOUT * 10))); do
        grep -q 'Entering MASTER STATE' "$WORK/$name.keepalived.log" 2>/dev/null && return 0
        kill -0 "$KA_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/$name.keepalived.log" >&2 || true
    die "$name: keepalived never became MASTER"
}

# pcap -> one line per packet, full IP packet in hex (Ethernet header stripped)
write_hex() {
    local name=$1
    tshark -r "$OUT_DIR/$name.pcap" -T json -x 2>/dev/null | python3 -c '
import json, sys
name = sys.argv[1]
out = []
for pkt in json.load(sys.stdin):
    raw = pkt["_source"]["layers"]["frame_raw"][0].lower()
    ethertype = raw[24:28]
    ip = raw[28:]
    if ethertype == "0800":
        assert ip[0:2] == "45", (name, "IPv4 packet does not start with 0x45", ip[:2])
    elif ethertype == "86dd":
        assert ip[0] == "6", (name, "IPv6 packet does not start with 0x6X", ip[:2])
    else:
        raise SystemExit(f"{name}: unexpected ethertype {ethertype}")
    out.append(ip)
if not out:
    raise SystemExit(f"{name}: no packets")
sys.stdout.write("".join(l + "\n" for l in out))
' "$name" >"$OUT_DIR/$name.hex"
}

# Fail unless tshark sees a VRRP packet and calls every VRRP checksum and
# every IPv4 header checksum Good (IPv4 header checking is off by default).
check_pcap() {
    local name=$1 n statuses bad
    n=$(tshark -r "$OUT_DIR/$name.pcap" -Y vrrp 2>/dev/null | wc -l)
    [[ $n -gt 0 ]] || die "$name: no VRRP packets"
    statuses=$(tshark -o ip.check_checksum:TRUE -r "$OUT_DIR/$name.pcap" -V -Y vrrp 2>/dev/null |
        grep -iE '^\s+\[(header )?checksum status: ' || true)
    bad=$(grep -vc 'Good' <<<"$statuses" || true)
    log "$name: $n VRRP packet(s); checksums: $(grep -c 'Good' <<<"$statuses") Good, $bad not Good"
    [[ $bad -eq 0 ]] || die "$name: tshark does not call every checksum Good"
}

finish_capture() {
    local name=$1
    cp "$WORK/cap/$name.pcap" "$OUT_DIR/$name.pcap"
    chmod 0644 "$OUT_DIR/$name.pcap"
    write_hex "$name"
    check_pcap "$name"
}

# A scenario: capture PACKETS adverts from a MASTER keepalived.
run_adverts() {
    local name=$1 filter=$2
    log "$name: capturing $PACKETS adverts"
    start_tcpdump "$name" "$PACKETS" "$filter"
    start_keepalived "$name"
    wait_tcpdump "$name"
    stop_keepalived "$name"
    finish_capture "$name"
}

# The priority-0 advert a MASTER sends when it stops (RFC 3768 §6.4.3).
run_prio0() {
    local name=v2-prio0
    log "$name: capturing the priority-0 advert sent on SIGTERM"
    start_tcpdump "$name" 1 'vrrp[2] = 0'
    start_keepalived "$name"
    wait_master "$name"
    sleep 1.5
    stop_keepalived "$name"
    wait_tcpdump "$name"
    finish_capture "$name"
}

run_scenario() {
    case $1 in
        v2-noauth)       run_adverts v2-noauth       'ip proto 112' ;;
        v2-pass)         run_adverts v2-pass         'ip proto 112' ;;
        v3-ipv4)         run_adverts v3-ipv4         'ip proto 112' ;;
        v3-ipv6)         run_adverts v3-ipv6         'ip6 proto 112' ;;
        v3-ipv4-unicast) run_adverts v3-ipv4-unicast 'ip proto 112 and dst host 192.0.2.2' ;;
        v2-prio0)        run_prio0 ;;
        *) die "unknown scenario: $1" ;;
    esac
}

ALL_SCENARIOS=(v2-noauth v2-pass v3-ipv4 v3-ipv6 v3-ipv4-unicast v2-prio0)
SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
    [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario: $s (know: ${ALL_SCENARIOS[*]})"
done

log "$(keepalived --version 2>&1 | head -1); netns $NS_A, $NS_B; temp $WORK"
setup_netns
for s in "${SCENARIOS[@]}"; do
    run_scenario "$s"
done
log "done: ${SCENARIOS[*]}"
