#!/usr/bin/env bash
# vigil demo: three routers and a client on a LAN made of network namespaces, three vigil
# agents electing a master for one IPv4 and one IPv6 virtual address (VIP), and the VIPs
# moving when the master fails: first its link is cut, then its vigil is killed with SIGKILL
# (when `vigil run` supervises its engine in a child process: the engine alone first, then both).
# Every move is timed from outside (polling the routers' addresses) and set against RFC 5798's
# Master_Down_Interval; the client's ping and neighbour cache show what a host on the LAN sees.
# Then the load balancer: the master director spreads the VIP's port 80 over two web servers by
# direct routing, takes a dead one out when its check fails, and puts it back.
#
# Run as root: `sudo make demo` (or `sudo bash demo/demo.sh` after `make`). Everything it
# makes is named vdemo-* and lives in namespaces of its own; all of it is removed on exit, on
# Ctrl-C and on failure, and leftovers of a run that was killed outright are removed at start.
#   NO_COLOR=1        no colours even on a terminal
#   DEMO_KEEP_LOGS=1  keep the configs and agent logs (otherwise kept only when the demo fails)
set -Eeuo pipefail
trap 'printf "demo/demo.sh: line %s: \`%s\` failed\n" "$LINENO" "$BASH_COMMAND" >&"${ERR:-2}"' ERR

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
VIGIL="$ROOT/bin/vigil"
P=vdemo-                       # every namespace this demo makes starts with this
BR=${P}br                      # the namespace holding the bridge
CLIENT=${P}client
ROUTERS=(r1 r2 r3)
declare -A PRIO=([r1]=150 [r2]=120 [r3]=100)
declare -A ADDR4=([r1]=192.0.2.11 [r2]=192.0.2.12 [r3]=192.0.2.13)
declare -A ADDR6=([r1]=2001:db8::11 [r2]=2001:db8::12 [r3]=2001:db8::13)
CLIENT4=192.0.2.50
CLIENT6=2001:db8::50
VIP4=192.0.2.100
VIP6=2001:db8::100
ADVERT_MS=10
WEBS=(web1 web2)               # real servers behind the VIP's port 80 (direct routing)
declare -A WEB4=([web1]=192.0.2.21 [web2]=192.0.2.22)

# ---- output ------------------------------------------------------------------------------------
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  B=$'\e[1m' D=$'\e[2m' R=$'\e[31m' G=$'\e[32m' Y=$'\e[33m' C=$'\e[36m' N=$'\e[0m'
else
  B='' D='' R='' G='' Y='' C='' N=''
fi
HEADING=0
heading() { HEADING=$((HEADING + 1)); printf '\n%s%d. %s%s\n' "$B$C" "$HEADING" "$*" "$N"; }
say()     { printf '   %s\n' "$*"; }
cmd()     { printf '   %s$ %s%s\n' "$D" "$*" "$N"; }
ok()      { printf '   %s✔%s %s\n' "$G" "$N" "$*"; }
note()    { printf '   %s%s%s\n' "$Y" "$*" "$N"; }
indent()  { sed 's/^/     /'; }
die()     { printf '\n%sdemo failed:%s %s\n' "$R$B" "$N" "$*" >&"${ERR:-2}"; exit 1; }

# ---- preconditions -----------------------------------------------------------------------------
if [ "$EUID" -ne 0 ]; then
  echo "The vigil demo builds network namespaces and runs VRRP on raw sockets: it needs root." >&2
  echo "Run it as root:  sudo make demo" >&2
  exit 1
fi
need() {  # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "\`$1\` is missing: apt-get install $2"
}
need ip iproute2
need ping iputils-ping
need mkfifo coreutils
# chrt (util-linux) lets the failover polls run at real-time priority 1, below the agents' 50.
RT=''
if command -v chrt >/dev/null 2>&1 && chrt -f 1 true 2>/dev/null; then RT='chrt -f 1'; fi
ip netns list >/dev/null 2>&1 || die "\`ip netns\` does not work here (a container without CAP_SYS_ADMIN?)"
[ -x "$ROOT/node_modules/.bin/node" ] || die "Node 26 is not installed in node_modules: run \`make\` first"
[ -f "$ROOT/core-wasm/build/core.wasm" ] || die "the core is not built: run \`make\` first"
[ -f "$ROOT/host/native/build/Release/vigil_shim.node" ] || die "the native shim is not built: run \`make\` first"
[ -n "${EPOCHREALTIME:-}" ] || die "bash 5 or later is needed (for \$EPOCHREALTIME)"

# ---- clean-up: always, whatever happens ------------------------------------------------------
# Everything this demo starts runs inside its own namespaces (vdemo-*), so the clean-up needs
# no list of processes: it stops whatever runs in them, by pid, and deletes them (which takes
# the links and addresses with them). It runs in a session of its own (setsid), so a second
# Ctrl-C, or make or timeout(1) ending the demo meanwhile, cannot cut it short.
WORK=''
FAILED=1         # 0 once the run is complete
INTERRUPTED=0
SIGNAL=''

ours() { ip netns list 2>/dev/null | awk -v p="$P" 'index($1, p) == 1 { print $1 }'; }
in_ours() { local ns; for ns in $(ours); do ip netns pids "$ns" 2>/dev/null; done | tr '\n' ' '; }
remove_namespaces() {  # SIGTERM first (agents stop cleanly within ms), SIGKILL after 3 s
  local pids ns
  pids=$(in_ours)
  # shellcheck disable=SC2086
  if [ -n "${pids// /}" ]; then
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 30); do sleep 0.1; pids=$(in_ours); [ -n "${pids// /}" ] || break; done
    [ -z "${pids// /}" ] || kill -KILL $pids 2>/dev/null
  fi
  for ns in $(ours); do ip netns del "$ns" 2>/dev/null; done
  return 0
}
forget_configs() {  # WORK: the records vigil's supervisors kept of its configs (host/agent/accepted.ts)
  local files=("$1"/*.yaml)
  [ -e "${files[0]}" ] || return 0
  "$ROOT/node_modules/.bin/node" --input-type=module -e "
    const { recordPath } = await import('$ROOT/host/agent/accepted.ts');
    for (const f of process.argv.slice(1)) process.getBuiltinModule('node:fs').rmSync(recordPath(f), { force: true });
  " "${files[@]}" 2>/dev/null || true
}
clean_all() {  # WORK KEEP: the namespaces, then the work directory unless KEEP=1
  remove_namespaces
  [ -z "$1" ] || [ "$2" = 1 ] || { forget_configs "$1"; rm -rf "$1"; }
}

# A signal only exits (the first one: timeout(1), make and the terminal may each send one);
# the EXIT trap cleans up. Its messages go to the stderr the demo started with: a trap can run
# inside a command's redirection.
on_signal() { [ "$INTERRUPTED" = 0 ] || return 0; INTERRUPTED=1 SIGNAL=$1; exit "$2"; }
on_exit() {
  local rc=$? f keep=0 left
  trap '' INT TERM HUP
  trap - ERR
  set +e
  if [ "$INTERRUPTED" = 1 ]; then
    printf '\n%sinterrupted (SIG%s): cleaning up%s\n' "$Y" "$SIGNAL" "$N" >&"$ERR"
  elif [ "$FAILED" = 1 ] && [ -n "$WORK" ]; then
    keep=1
    for f in "$WORK"/*.log; do          # what the agents said, before everything goes
      [ -f "$f" ] || continue
      printf '%s--- last lines of %s%s\n' "$D" "$f" "$N" >&"$ERR"
      tail -n 5 "$f" >&"$ERR"
    done
  fi
  [ -z "${DEMO_KEEP_LOGS:-}" ] || keep=1
  if command -v setsid >/dev/null; then
    setsid -w bash -c "P='$P' ROOT='$ROOT'; $(declare -f ours in_ours remove_namespaces forget_configs clean_all); clean_all \"\$@\"" \
      clean "$WORK" "$keep" 2>&"$ERR"
  else
    clean_all "$WORK" "$keep" 2>&"$ERR"
  fi
  disown -a 2>/dev/null                 # no "Killed" / "Terminated" lines from bash
  [ "$keep" = 0 ] || [ -z "$WORK" ] || printf '   configs and agent logs kept in %s\n' "$WORK" >&"$ERR"
  left=$(ours | tr '\n' ' ')
  [ -z "$left" ] || printf '%swarning: namespaces left behind: %s%s\n' "$R" "$left" "$N" >&"$ERR"
  exit "$rc"
}
exec {ERR}>&2
trap on_exit EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# ---- helpers -----------------------------------------------------------------------------------
NOW=0
now() { NOW=${EPOCHREALTIME//[!0-9]/}; }            # microseconds, into $NOW (no subshell)
ms()  { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
# RFC 5798 §6.1: Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time,
#                Skew_Time = ((256 - Priority) x Master_Adver_Interval) / 256
mdi() { awk -v p="$1" -v a="$ADVERT_MS" 'BEGIN { printf "%.1f", 3 * a + (256 - p) * a / 256 }'; }
# No `read -t` anywhere: bash 5.2 can crash ("longjmp causes uninitialized stack frame") when
# a trap exits the shell during one, and then nothing would be cleaned up.
nap() { sleep "$1"; }
# ISO time from an agent's log -> µs since the epoch.
iso_us() { date -d "$1" +%s%6N; }

# Each router has a long-running `ip -batch` reading commands from a FIFO: asking it costs no
# fork, so the failover polls below run every couple of milliseconds, and a link is cut the
# moment we say so (an `ip` started for it would take a few ms, more on a busy machine).
declare -A QIN QOUT
start_reader() {  # R
  local r=$1 fd
  mkfifo "$WORK/.$r.in" "$WORK/.$r.out"
  # Real-time priority 1 (the agents run at 50): answers come at once even on a busy machine.
  $RT ip -n "$P$r" -br -force -batch - <"$WORK/.$r.in" >"$WORK/.$r.out" 2>&1 &
  exec {fd}<>"$WORK/.$r.in";  QIN[$r]=$fd       # <> never blocks on a FIFO
  exec {fd}<>"$WORK/.$r.out"; QOUT[$r]=$fd
}
# ask R COMMAND, then answer R: the command's output into $OUT (brief format: one line per
# interface, "eth0@if3 UP 192.0.2.11/24 192.0.2.100/24 ..."). The one line of the second
# command, lo's, marks the end of the answer. (Not `link show`: after one, iproute2 6.1's
# batch mode answers every later `addr show` with links only.)
ask() { printf '%s\naddr show dev lo\n' "$2" >&"${QIN[$1]}"; }
OUT=''
answer() {
  local line
  OUT=''
  while IFS= read -r -u "${QOUT[$1]}" line; do
    [[ $line == "lo "* ]] && return 0
    OUT+=$line$'\n'
  done
  die "the \`ip -batch\` of $1 stopped answering"
}
ADDRS=''
addrs() { ask "$1" 'addr show dev eth0'; answer "$1"; ADDRS=$OUT; }   # R: eth0's addresses
set_link() {  # R up|down
  ask "$1" "link set eth0 $2"; answer "$1"
  [ -z "$OUT" ] || die "ip link set eth0 $2 in $P$1: $OUT"
}
holds() { addrs "$1"; [[ $ADDRS == *" $2/"* ]]; }    # R ADDR
holders() {  # the routers holding ADDR, e.g. "r1" or "r1 r2", or "nobody"
  local r list=()
  for r in "${ROUTERS[@]}"; do holds "$r" "$1" && list+=("$r"); done
  [ "${#list[@]}" -gt 0 ] && echo "${list[*]}" || echo nobody
}

# wait_until SECONDS WHAT COMMAND...: retry COMMAND every 20 ms.
wait_until() {
  local limit=$1 what=$2; shift 2
  now; local end=$((NOW + limit * 1000000))
  until "$@"; do
    now; [ "$NOW" -lt "$end" ] || die "nothing happened within ${limit} s while waiting for $what"
    nap 0.02
  done
}

declare -A MAC
who_mac() {  # the router whose eth0 has this MAC
  local r
  for r in "${ROUTERS[@]}"; do [ "${MAC[$r]}" = "$1" ] && { echo "$r"; return; }; done
  echo "nobody we know"
}
# The client's neighbour entry for ADDR: "MAC (rN's eth0, STATE)".
neigh() {
  local line mac f
  line=$(ip -n "$CLIENT" neigh show "$1" dev eth0 2>/dev/null)
  read -ra f <<<"$line"
  mac=$(awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }' <<<"$line")
  if [ -n "$mac" ]; then echo "$mac (${B}$(who_mac "$mac")${N}'s eth0, ${f[-1]})"; else echo "no entry"; fi
}

# The state an instance last moved to, according to an agent's JSON log.
last_state() {  # LOG INSTANCE
  { grep -o "\"instance\":\"$2\",\"from\":\"[a-z]*\",\"to\":\"[a-z]*\"" "$1" 2>/dev/null || true; } \
    | tail -n 1 | sed 's/.*"to":"\([a-z]*\)"/\1/'
}
count() { local n; n=$(grep -c "$2" "$1" 2>/dev/null) || true; echo "${n:-0}"; }   # LOG PATTERN
declare -A LOGMARK   # lines of LOG[r] written before the current move
logged_master() {  # R: has R's agent logged MASTER since LOGMARK[R]? (no fork: polled)
  local l; [ -f "${LOG[$1]}" ] || return 1
  mapfile -t -s "${LOGMARK[$1]:-0}" l <"${LOG[$1]}"
  [[ ${l[*]} == *'"to":"master"'* ]]
}
# The pid of R's VRRP engine, from its last "vigil running" log line.
engine_pid() { grep 'vigil running' "${LOG[$1]}" | tail -n 1 | grep -o '"pid":[0-9]*' | cut -d: -f2; }
# Time (µs) of the first VI_4 transition to master in LOG after line FROM; empty if none.
master_at() {  # LOG FROM
  local ts
  ts=$(tail -n +"$(($2 + 1))" "$1" | grep -m1 '"instance":"VI_4","from":"[a-z]*","to":"master"' \
    | sed 's/^{"time":"\([^"]*\)".*/\1/') || true
  [ -n "$ts" ] && iso_us "$ts"
}
log_time() { local t=${1#'{"time":"'}; echo "${t%%'"'*}"; }      # a JSON log line's time
lines() { local n; n=$(wc -l <"$1"); echo "${n// /}"; }

# ---- agents ------------------------------------------------------------------------------------
declare -A AGENT LOG
write_config() {  # R
  local r=$1 p=${PRIO[$1]}
  cat >"$WORK/$r.yaml" <<EOF
# vigil demo, router $r: written by demo/demo.sh
instances:
  - name: VI_4
    interface: eth0
    vrid: 51
    priority: $p
    version: 3
    advertInterval: ${ADVERT_MS}ms
    virtualAddresses: [$VIP4/24]
  - name: VI_6                 # IPv6 has its own VRID space: 51 again is fine
    interface: eth0
    vrid: 51
    priority: $p
    version: 3
    advertInterval: ${ADVERT_MS}ms
    virtualAddresses: [$VIP6/64]
syncGroups:                    # both VIPs always on the same router
  - name: G1
    instances: [VI_4, VI_6]
checks:                        # the web servers, for the load balancer
  - { name: web1, type: http, target: "http://${WEB4[web1]}/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }
  - { name: web2, type: http, target: "http://${WEB4[web2]}/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }
virtualServers:                # the VIP's port 80, whoever holds the VIP forwards it
  - name: www
    address: $VIP4
    port: 80
    scheduler: rr
    forwarding: dr             # the web servers hold the VIP on lo and answer the client themselves
    realServers: [{ address: ${WEB4[web1]}, check: web1 }, { address: ${WEB4[web2]}, check: web2 }]
status:
  listen: 127.0.0.1:9110       # each router is its own network namespace: no clash
EOF
  "$VIGIL" check -c "$WORK/$r.yaml" >/dev/null || die "vigil check refused $WORK/$r.yaml"
}
start_agent() {  # R LOGNAME
  local r=$1
  LOG[$r]="$WORK/$2.log" LOGMARK[$r]=0
  ip netns exec "$P$r" "$VIGIL" run -c "$WORK/$r.yaml" --log-json >"${LOG[$r]}" 2>&1 &
  AGENT[$r]=$!
}
status_up() { grep -q 'status on http' "${LOG[$1]}" 2>/dev/null; }

# Client traffic: ping the IPv4 VIP every 10 ms for 2 s in the background, with timestamps.
PING_PID=''
PING_SECS=2
start_ping() {  # NAME
  ip netns exec "$CLIENT" ping -n -D -i 0.01 -w "$PING_SECS" "$VIP4" >"$WORK/$1.ping" 2>&1 &
  PING_PID=$!
  nap 0.3      # some replies before the event
}

# ---- the run -----------------------------------------------------------------------------------
now; T_START=$NOW
printf '%svigil demo%s: three routers, one virtual IPv4 + IPv6 address, failovers timed from outside\n' "$B" "$N"

stale=$(ours | tr '\n' ' ')
if [ -n "$stale" ]; then
  note "removing leftovers of an earlier run that was killed: $stale"
  # Its work directory, named by its agents' command lines (-c /tmp/vdemo.XXXXXX/rN.yaml).
  stale_dirs=$(for ns in $stale; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true; done
    done | grep -E '^/.+/vdemo\.[A-Za-z0-9]{6}/r[0-9]\.yaml$' | xargs -r -n1 dirname | sort -u || true)
  remove_namespaces
  for d in $stale_dirs; do [ -d "$d" ] && rm -rf "$d"; done
fi
WORK=$(mktemp -d -t vdemo.XXXXXX)

heading "A LAN in network namespaces"
mkns() {
  ip netns add "$1"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$1" link set lo up
}
mkns "$BR"
ip -n "$BR" link add br0 type bridge mcast_snooping 0
ip -n "$BR" link set br0 up
plug() {  # NAME ADDR4 ADDR6: namespace vdemo-NAME, its eth0 on the bridge
  local ns=$P$1
  mkns "$ns"
  ip link add eth0 netns "$ns" type veth peer name "p-$1" netns "$BR"
  ip -n "$BR" link set "p-$1" master br0 up
  ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" addr add "$3/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
}
for r in "${ROUTERS[@]}"; do
  plug "$r" "${ADDR4[$r]}" "${ADDR6[$r]}"
  MAC[$r]=$(ip netns exec "$P$r" cat /sys/class/net/eth0/address)
  start_reader "$r"
done
plug client "$CLIENT4" "$CLIENT6"
declare -A WEBPID
start_web() {  # W: a web server answering "W CLIENT-ADDRESS" on port 80 of any address
  ip netns exec "$P$1" python3 "$ROOT/test/lb/backend.py" http 0.0.0.0 80 "$1" >"$WORK/$1.log" 2>&1 &
  WEBPID[$1]=$!
}
for w in "${WEBS[@]}"; do
  plug "$w" "${WEB4[$w]}" "2001:db8::${WEB4[$w]##*.}"
  # Direct routing: the VIP on lo, never answered for nor used in ARP (the director owns it).
  ip -n "$P$w" addr add "$VIP4/32" dev lo
  ip netns exec "$P$w" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
  start_web "$w"
done
say "bridge br0 in namespace $BR; 192.0.2.0/24 and 2001:db8::/64 (documentation ranges)"
for r in "${ROUTERS[@]}"; do
  say "$(printf '%-12s eth0 %-12s %-14s %s   priority %s' "$P$r" "${ADDR4[$r]}" "${ADDR6[$r]}" "${MAC[$r]}" "${PRIO[$r]}")"
done
say "$(printf '%-12s eth0 %-12s %-14s' "$CLIENT" "$CLIENT4" "$CLIENT6")"
for w in "${WEBS[@]}"; do say "$(printf '%-12s eth0 %-12s lo %s   a web server' "$P$w" "${WEB4[$w]}" "$VIP4")"; done

heading "Three vigil agents: VRRPv3, ${ADVERT_MS} ms adverts, VIPs $VIP4/24 + $VIP6/64"
for r in "${ROUTERS[@]}"; do write_config "$r"; done
say "configs and logs in $WORK; r1.yaml (r2, r3: the same with priority 120, 100):"
grep -v '^#' "$WORK/r1.yaml" | sed "s/^/     $D/; s/\$/$N/"
for r in "${ROUTERS[@]}"; do
  cmd "ip netns exec $P$r vigil run -c $r.yaml --log-json"
  start_agent "$r" "$r"
done
now; t0=$NOW
ready() {
  local r
  for r in "${ROUTERS[@]}"; do status_up "$r" || return 1; done
  [ "$(holders "$VIP4")" = r1 ] && [ "$(holders "$VIP6")" = r1 ] || return 1
  for r in r2 r3; do
    [ "$(last_state "${LOG[$r]}" VI_4)" = backup ] && [ "$(last_state "${LOG[$r]}" VI_6)" = backup ] || return 1
  done
}
wait_until 20 "the three agents to start and elect r1" ready
now; T_READY=$NOW; ok "agents up, r1 elected master: $(ms $((NOW - t0))) ms after the start (mostly Node starting up)"
for r in r2 r3; do
  [ "$(count "${LOG[$r]}" '"to":"master"')" -gt 0 ] \
    && say "($r was up first and master for a moment, until r1 (priority 150) started and preempted it)"
done
nap 0.5

heading "Who is master"
for r in "${ROUTERS[@]}"; do
  cmd "ip netns exec $P$r vigil status"
  ip netns exec "$P$r" "$VIGIL" status | indent
done
cmd "ip -n ${P}rN addr show dev eth0"
say "$VIP4 is on ${B}$(holders "$VIP4")${N}, $VIP6 is on ${B}$(holders "$VIP6")${N}"
cmd "ip netns exec $CLIENT ping -c1 -W1 $VIP4"
ip netns exec "$CLIENT" ping -n -c1 -W1 "$VIP4" | grep 'bytes from' | indent || die "the client cannot reach $VIP4"
ip netns exec "$CLIENT" ping -n -c1 -W1 "$VIP6" >/dev/null || die "the client cannot reach $VIP6"
cmd "ip netns exec $CLIENT ip neigh"
say "$VIP4 -> $(neigh "$VIP4")"
say "$VIP6 -> $(neigh "$VIP6")"

# ---- failovers ---------------------------------------------------------------------------------
SUMMARY=()
WINDOWS=()       # "start end" (µs) of each failure / recovery, for the stray-election check
# poll KIND "WATCH...": poll the routers in WATCH every millisecond or so until exactly one of
# them has held both VIPs for 50 ms (5 adverts: a second master for a moment is possible,
# and the real one may install its VIPs a little later; move reports it).
# With KIND=restart a router counts only once its agent has logged MASTER since LOGMARK: a
# restarted r1 may still hold its stale VIPs at first. Sets GOT, when GOT was first seen
# holding each VIP (T4, T6, µs) and the mean poll step (PSTEP, ms).
poll() {
  local kind=$1 cand r polls=0 start end asked holding both cur='' since=0; read -ra cand <<<"$2"
  declare -A first4 first6
  now; start=$NOW; end=$((NOW + 10000000)); GOT=''
  while :; do
    polls=$((polls + 1))
    asked=()
    for r in "${cand[@]}"; do    # ask every watched router at once, then read the answers
      if [ "$kind" = restart ] && ! logged_master "$r"; then continue; fi
      ask "$r" 'addr show dev eth0'; asked+=("$r")
    done
    holding=() both=()
    for r in "${asked[@]}"; do
      answer "$r"; now
      if [[ $OUT == *" $VIP4/"* ]]; then first4[$r]=${first4[$r]:-$NOW}; else first4[$r]=''; fi
      if [[ $OUT == *" $VIP6/"* ]]; then first6[$r]=${first6[$r]:-$NOW}; else first6[$r]=''; fi
      [ -n "${first4[$r]}${first6[$r]}" ] && holding+=("$r")
      [ -n "${first4[$r]}" ] && [ -n "${first6[$r]}" ] && both+=("$r")
    done
    if [ "${#holding[@]}" = 1 ] && [ "${#both[@]}" = 1 ]; then
      [ "$cur" = "${both[0]}" ] || { cur=${both[0]}; since=$NOW; }
      if [ $((NOW - since)) -ge 50000 ]; then GOT=$cur; break; fi
    else
      cur=''
    fi
    now; [ "$NOW" -lt "$end" ] || die "no single router of $2 took $VIP4 and $VIP6 within 10 s"
    [ "${#asked[@]}" -gt 0 ] || nap 0.002     # otherwise the answers pace the loop
  done
  T4=${first4[$GOT]} T6=${first6[$GOT]} PSTEP=$(ms $(((NOW - start) / polls)))
}

# move TITLE KIND EXPECTED "WATCH..." ACTION...: run ACTION (a failure, or a recovery), poll
# until the VIPs are on one router of WATCH, print and record the timings. With THEN=R set,
# R is expected to come back by itself (a supervisor restarting its engine): it is polled
# right after, timed from the same moment, and reported too.
move() {
  local title=$1 kind=$2 expect=$3 watch=$4; shift 4
  local r t0
  declare -A before
  for r in "${ROUTERS[@]}"; do before[$r]=$(lines "${LOG[$r]}"); LOGMARK[$r]=${before[$r]}; done
  start_ping "$title"
  [ -z "$RT" ] || chrt -f -p 1 $$ >/dev/null 2>&1 || true    # this shell too, while it polls
  now; t0=$NOW; MOVE_T0=$t0; WINDOWS+=("$t0")
  "$@"
  poll "$kind" "$watch"
  local got=$GOT t4=$T4 t6=$T6 step=$PSTEP back='' b4 b6 bstep
  if [ -n "${THEN:-}" ]; then poll restart "$THEN"; back=$GOT b4=$T4 b6=$T6 bstep=$PSTEP; fi
  [ -z "$RT" ] || chrt -o -p 0 $$ >/dev/null 2>&1 || true

  local took at
  took=$(ms $((t4 - t0)))
  ok "$VIP4 on ${B}$got${N} after ${B}$took ms${N}, $VIP6 after $(ms $((t6 - t0))) ms (polled every ~$step ms)"
  [ "$got" = "$expect" ] || note "expected $expect to take over, but $got did"
  # When the new master's agent says it became master (its log, millisecond resolution).
  at=$(master_at "${LOG[$got]}" "$([ "$kind" = restart ] && echo "${LOGMARK[$got]}" || echo "${before[$got]}")" || true)
  [ -n "$at" ] && say "$got's agent logged MASTER at $(ms $((at - t0))) ms (its own clock, in whole ms)"
  LAST_RFC=$(mdi "${PRIO[$got]}")
  if [ "$kind" = fail ]; then
    say "RFC 5798 Master_Down_Interval for $got: 3 x $ADVERT_MS + (256 - ${PRIO[$got]}) x $ADVERT_MS / 256 = ${B}$LAST_RFC ms${N}"
  fi
  LAST_MASTER=$got LAST_MS="$took ms (±$step)"
  if [ -n "$back" ]; then
    ok "back on ${B}$back${N}: $VIP4 after ${B}$(ms $((b4 - t0))) ms${N}, $VIP6 after $(ms $((b6 - t0))) ms (polled every ~$bstep ms)"
    at=$(master_at "${LOG[$back]}" "${before[$back]}" || true)
    [ -n "$at" ] && say "$back's restarted engine logged MASTER at $(ms $((at - t0))) ms"
    BACK_MASTER=$back BACK_MS="$(ms $((b4 - t0))) ms (±$bstep)"
  fi
  # Anyone else who went master meanwhile?
  nap 0.2
  local up down how
  for r in "${ROUTERS[@]}"; do
    [ "$r" = "$got" ] && continue
    [ "$r" = "${back:-none}" ] && continue
    up=$(tail -n +"$((${before[$r]} + 1))" "${LOG[$r]}" | grep -m1 '"instance":"VI_4".*"to":"master"' || true)
    [ -n "$up" ] || continue
    down=$(tail -n +"$((${before[$r]} + 1))" "${LOG[$r]}" | grep -m1 '"instance":"VI_4","from":"master"' || true)
    how="still master"
    [ -n "$down" ] && how="back to backup $(ms $(($(iso_us "$(log_time "$down")") - $(iso_us "$(log_time "$up")")))) ms later"
    note "$r went master too ($how): its Master_Down_Interval ($(mdi "${PRIO[$r]}") ms) is only"
    note "$(awk -v a="$(mdi "${PRIO[$r]}")" -v b="$LAST_RFC" 'BEGIN { d = a - b; printf "%.1f", d < 0 ? -d : d }') ms away from $got's, so both ran out before the first advert of the other arrived."
  done
  now; WINDOWS[-1]+=" $NOW"
}
# Lines of R's log since the current move began that match PATTERN, as "at N ms: message".
log_since() {  # R PATTERN
  local l m
  tail -n +"$((${LOGMARK[$1]} + 1))" "${LOG[$1]}" | grep "$2" | while IFS= read -r l; do
    m=${l#*'"msg":"'}
    echo "at $(ms $(($(iso_us "$(log_time "$l")") - MOVE_T0))) ms: ${m%%'"'*}"
  done || true
}
# What the client saw: its ping during the move and its neighbour entries now.
client_view() {  # NAME
  nap 0.2
  wait "$PING_PID" 2>/dev/null || true
  local res; res=$(awk '
    /bytes from/ { t = substr($1, 2, length($1) - 2) * 1000; if (prev && t - prev > gap) gap = t - prev; prev = t; got++ }
    /packets transmitted/ { sent = $1 }
    END { printf "%d %d %.0f", sent - got, sent, gap }' "$WORK/$1.ping")
  local lost sent gap; read -r lost sent gap <<<"$res"
  LAST_CLIENT="$lost lost, longest gap $gap ms"
  say "client pinging $VIP4 every 10 ms: ${B}$lost of $sent lost${N}, longest gap between replies ${B}$gap ms${N}"
  ip netns exec "$CLIENT" ping -n -c1 -W1 "$VIP6" >/dev/null 2>&1 || note "the client cannot reach $VIP6 right now"
  say "client's neighbour entries: $VIP4 -> $(neigh "$VIP4")"
  say "                            $VIP6 -> $(neigh "$VIP6")"
  local v stale=0
  for v in "$VIP4" "$VIP6"; do
    stale_neigh "$v" || continue
    note "stale neighbour entry: the client sends $v's packets to $STALE_AT, which does not hold it"
    stale=1 STALE_NEIGH=1
  done
  [ "$stale" = 0 ] || note "(another router was master for a moment and announced itself: see the end)"
}
# Does the client's entry for VIP name a router that does not hold it? Then the client's packets
# for the VIP go nowhere until the entry is refreshed. The router's name into $STALE_AT.
STALE_AT=''
stale_neigh() {  # VIP
  local mac; mac=$(ip -n "$CLIENT" neigh show "$1" dev eth0 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
  [ -n "$mac" ] || return 1
  STALE_AT=$(who_mac "$mac")
  case " $(holders "$1") " in *" $STALE_AT "*) return 1 ;; esac
  return 0
}
STALE_NEIGH=0

heading "Failure 1: r1's link is cut"
cmd "ip netns exec ${P}r1 ip link set eth0 down"
move link-cut fail r2 "r2 r3" set_link r1 down
client_view link-cut
SUMMARY+=("r1's link cut|$LAST_MASTER|$LAST_MS|$LAST_RFC ms|$LAST_CLIENT")
wait_until 3 "r1 to report FAULT" [ "$(last_state "${LOG[r1]}" VI_4)" = fault ]
say "r1's agent: VI_4 $(last_state "${LOG[r1]}" VI_4), VI_6 $(last_state "${LOG[r1]}" VI_6) (its own link is tracked); VIPs on $(holders "$VIP4")"

heading "Recovery: r1's link comes back and r1 (priority 150) preempts"
cmd "ip netns exec ${P}r1 ip link set eth0 up"
move link-up back r1 r1 set_link r1 up
say "(r1 comes back as backup and takes over one Master_Down_Interval later: $(mdi 150) ms at priority 150)"
wait_until 3 "r2 to leave the VIPs" [ "$(holders "$VIP4")" = r1 ]
client_view link-up
SUMMARY+=("r1's link back (preempts)|$LAST_MASTER|$LAST_MS|$(mdi 150) ms|$LAST_CLIENT")

# `vigil run` may be one process, or a supervisor and the engine it starts: then the engine is
# killed first (the supervisor cleans up and restarts it), and the whole agent next.
engine=$(engine_pid r1)
if [ -n "$engine" ] && [ "$engine" != "${AGENT[r1]}" ] && ip netns pids "${P}r1" | grep -qx "$engine"; then
  heading "Failure 2: r1's VRRP engine is killed with SIGKILL; its supervisor stays"
  say "\`vigil run\` is two processes here: a supervisor (pid ${AGENT[r1]}) and the engine it started."
  nap 0.3
  cmd "kill -9 $engine        # r1's engine"
  THEN=r1 PING_SECS=4 move kill-engine fail r2 "r2 r3" kill -KILL "$engine"
  log_since r1 'VIPs removed\|left behind\|removing stale' | sed "s/^/   r1's log /"
  client_view kill-engine
  SUMMARY+=("kill -9 of r1's engine|$LAST_MASTER|$LAST_MS|$LAST_RFC ms|$LAST_CLIENT")
  SUMMARY+=("the supervisor restarts it|$BACK_MASTER|$BACK_MS|restart + $(mdi 150) ms|(same ping)")
  say "$VIP4 is on ${B}$(holders "$VIP4")${N}, $VIP6 is on ${B}$(holders "$VIP6")${N}"
  nap 0.3
  engine=$(engine_pid r1)
  heading "Failure 3: all of r1's vigil is killed with SIGKILL: supervisor and engine, no clean-up"
  cmd "kill -9 ${AGENT[r1]} $engine        # r1's vigil"
  victims=("${AGENT[r1]}" "$engine")
  what="kill -9 of all of r1's vigil"
else
  heading "Failure 2: r1's agent is killed with SIGKILL (no goodbye, no clean-up)"
  nap 0.3
  cmd "kill -9 ${AGENT[r1]}        # r1's vigil"
  victims=("${AGENT[r1]}")
  what="kill -9 of r1's agent"
fi
disown "${AGENT[r1]}"              # no "Killed" line from bash
move kill-9 fail r2 "r2 r3" kill -KILL "${victims[@]}"
client_view kill-9
SUMMARY+=("$what|$LAST_MASTER|$LAST_MS|$LAST_RFC ms|$LAST_CLIENT")
say "$VIP4 is on ${B}$(holders "$VIP4")${N}, $VIP6 is on ${B}$(holders "$VIP6")${N}"
if holds r1 "$VIP4"; then
  note "r1 still has both VIPs on eth0: SIGKILL left vigil no chance to remove them (and r1's"
  note "kernel still answers for them). r2's gratuitous ARP / NA moved the client over."
fi

heading "Recovery: r1's vigil restarts, removes its stale VIPs, then preempts"
cmd "ip netns exec ${P}r1 vigil run -c r1.yaml --log-json"
move restart restart r1 r1 start_agent r1 r1-restart
stale_lines=$(log_since r1 'removing stale VIP')
if [ -n "$stale_lines" ]; then
  while IFS= read -r l; do ok "r1's log $l"; done <<<"$stale_lines"
else
  note "r1's log has no \"removing stale VIP\" line"
fi
say "(the time includes Node and the agent starting, then one Master_Down_Interval as backup)"
wait_until 3 "r2 to leave the VIPs" [ "$(holders "$VIP4")" = r1 ]
client_view restart
SUMMARY+=("r1's vigil restarted (preempts)|$LAST_MASTER|$LAST_MS|start + $(mdi 150) ms|$LAST_CLIENT")
say "$VIP4 is on ${B}$(holders "$VIP4")${N}, $VIP6 is on ${B}$(holders "$VIP6")${N}"

# Elections outside the failures above: a backup that heard no advert for a
# Master_Down_Interval while the master was fine (adverts late on a busy machine).
stray=()
for r in "${ROUTERS[@]}"; do
  for f in "$WORK/$r.log" "$WORK/$r-restart.log"; do
    [ -f "$f" ] || continue
    while IFS= read -r l; do
      ts=$(iso_us "$(log_time "$l")")
      [ "$ts" -ge "$T_READY" ] || continue
      inside=0
      for w in "${WINDOWS[@]}"; do
        read -r ws we <<<"$w"
        if [ "$ts" -ge "$ws" ] && [ "$ts" -le "$we" ]; then inside=1; fi
      done
      [ "$inside" = 1 ] || stray+=("$r at +$(awk -v us=$((ts - T_START)) 'BEGIN { printf "%.1f", us / 1e6 }') s")
    done < <(grep '"instance":"VI_4","from":"backup","to":"master"' "$f" || true)
  done
done

heading "Load balancing: the VIP's port 80 over two web servers, by direct routing"
# Requests from the client, each on a new connection: "SERVER CLIENT-ADDRESS" per answer.
get() {  # N
  ip netns exec "$CLIENT" python3 "$ROOT/test/lb/client.py" http "$VIP4" 80 "$1" 2>/dev/null | cut -d' ' -f3- || true
}
tally() { sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }'; }
lb_logged() {  # WHAT: r1's load balancer logged "real server ... is WHAT" since LBMARK; its time into $AT
  local l
  l=$(tail -n +"$LBMARK" "${LOG[r1]}" | grep -m1 "\"msg\":\"real server ${WEB4[web1]}:80 of www is $1") || return 1
  AT=$(iso_us "$(log_time "$l")")
}
say "every router runs \`vigil lb\` beside its engine: nftables on eth0's ingress forwards the VIP's"
say "port 80 to a web server's MAC; the web server answers the client from the VIP, itself. Before"
say "conntrack, each connection is hashed (client address and port) onto the scheduler's slots."
cmd "for i in 1..8: curl http://$VIP4/   # from the client, a new connection each"
answers=$(get 8)
[ -n "$answers" ] || die "no answer from http://$VIP4/"
ok "answers: $(tally <<<"$answers")   (each saw the client's own address: $(awk '{ print $2 }' <<<"$answers" | sort -u | tr '\n' ' '))"
cmd "kill web1's server"
LBMARK=$(($(lines "${LOG[r1]}") + 1))
now; t0=$NOW
kill "${WEBPID[web1]}"; disown "${WEBPID[web1]}" 2>/dev/null || true
wait_until 5 "r1 to take web1 out" lb_logged down
ok "web1 out of service on r1 $(ms $((AT - t0))) ms after the kill (its check: 2 failures x 200 ms, then one nft transaction)"
ok "answers: $(tally <<<"$(get 6)")"
cmd "start web1's server again"
LBMARK=$(($(lines "${LOG[r1]}") + 1))
start_web web1
wait_until 5 "web1's server to listen" grep -q '^ready$' "$WORK/web1.log"
now; t0=$NOW
wait_until 5 "r1 to put web1 back" lb_logged up
ok "web1 back in service $(ms $((AT - t0))) ms after it listened (2 passes x 200 ms)"
ok "answers: $(tally <<<"$(get 8)")"
cmd "ip netns exec ${P}r1 vigil lb dump   # what r1 applied (an excerpt)"
ip netns exec "${P}r1" "$VIGIL" lb dump 2>/dev/null | grep -E 'hook ingress|elements = \{ 192\.0\.2\.100|vmap @slots-www|fwd ip to' | sed 's/^[[:space:]]*//' | head -5 | indent

heading "Summary"
row() {  # pads by characters, ± included, whatever the locale
  local v=${3//±/+}
  printf '   %-31s %-7s %s%*s %-18s %s\n' "$1" "$2" "$3" $((19 - ${#v})) '' "$4" "$5"
}
printf '%s' "$B"; row "event" "master" "VIP moved" "RFC 5798 MDI" "client (ping every 10 ms)"; printf '%s' "$N"
for s in "${SUMMARY[@]}"; do
  IFS='|' read -r ev m took rfc cl <<<"$s"
  row "$ev" "$m" "$took" "$rfc" "$cl"
done
say ""
say "VIP moved: from the failure until \`ip addr\` showed the VIP on the new master, ± the poll"
say "step. It can be below the MDI: a backup counts from the master's last advert, which left"
say "up to one advert interval ($ADVERT_MS ms) before the failure."
say "MDI: Master_Down_Interval, how long a backup waits after the last advert before it takes over."
if [ "${#stray[@]}" -gt 0 ]; then
  say ""
  note "Outside these failures a backup became master for a moment ${#stray[@]} time(s): ${stray[*]}."
  note "The master's adverts were late by more than a Master_Down_Interval (at 10 ms adverts a"
  note "busy machine can do that); the backup yielded at the next advert, but the client may"
  note "have followed its gratuitous ARP / NA.$([ "$STALE_NEIGH" = 1 ] && echo ' It did here: see the warnings above.')"
fi
now; say "whole run $(awk -v us=$((NOW - T_START)) 'BEGIN { printf "%.1f", us / 1e6 }') s; cleaning up."
FAILED=0
