#!/usr/bin/env bash
# Load harness for the whole IM → e-mail path: sipp sends MESSAGEs at a
# fixed rate to the release gateway, which queues each in its store and
# delivers it by MX (dnsmasq) to an SMTP sink. Prints sipp's counters, the
# mails received, the gateway's CPU per message and, for PostgreSQL, the
# WAL flushes per message.
#
#   cargo build --release -p interwork
#   tests/load/im_to_email.sh [RATE per second] [TOTAL]
#
# Environment:
#   BIN=path      the interwork binary (default target/release/interwork;
#                 another build can be measured side by side)
#   EXAMPLE=path  the example configuration to start from (that build's)
#   SINK=smtp-sink|aiosmtpd
#                 the MX: Postfix's smtp-sink (default when installed: it
#                 is not the bottleneck) or aiosmtpd (keeps every mail)
#   STORE=sqlite|postgres
#                 the gateway's store; postgres starts a throwaway cluster
#                 (initdb/pg_ctl, fsync on) in the scratch directory
#   PERF=file     record a CPU profile of the gateway (perf record -g)
#   STRACE=1      count the gateway's fsync/fdatasync calls with strace
#                 (slows it: a run for counting, not for the rate)
#
# Everything runs on 127.0.0.1, bounded by TOTAL, and stops by itself.
set -euo pipefail
rate=${1:-100}
total=${2:-2000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/target/release/interwork}
store=${STORE:-sqlite}
sink=${SINK:-}
if [ -z "$sink" ]; then
  if [ -x /usr/sbin/smtp-sink ]; then sink=smtp-sink; else sink=aiosmtpd; fi
fi
[ -x "$bin" ] || { echo "build it first: cargo build --release -p interwork" >&2; exit 2; }
t=$(mktemp -d)
pg_bin=""
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  if [ -n "$pg_bin" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$t/pg/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$t"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dns=$(free_port); smtp=$(free_port); sip=$(free_port); msrp=$(free_port); mx=$(free_port)

cat > "$t/dnsmasq.conf" <<CONF
port=$dns
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
user=root
local=/test/
pid-file=$t/dnsmasq.pid
mx-host=mail.example.test,mx.mail.example.test,10
host-record=mx.mail.example.test,127.0.0.1
CONF
dnsmasq --conf-file="$t/dnsmasq.conf" --keep-in-foreground &
case "$sink" in
  smtp-sink)
    # -c counts mails (printed on SIGUSR1... and on exit); 1000 sessions.
    mkdir -p "$t/sink"
    (cd "$t/sink" && /usr/sbin/smtp-sink -c -u root 127.0.0.1:"$mx" 1000 > "$t/sink/count" 2>&1) &
    ;;
  aiosmtpd) /usr/bin/python3 "$repo/tests/peers/smtp_sink.py" "$mx" "$t/Maildir" > /dev/null & ;;
  *) echo "SINK is smtp-sink or aiosmtpd" >&2; exit 2 ;;
esac

store_line="# path = \"/var/lib/interwork/store.sqlite\""
store_value="path = \"$t/store.sqlite\""
if [ "$store" = postgres ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg=$(free_port)
  # The server runs as postgres: it must reach its directory.
  chmod 711 "$t"; mkdir -p "$t/pg"; chown postgres:postgres "$t/pg"
  runuser -u postgres -- "$pg_bin/initdb" -D "$t/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N > /dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$t/pg/data" -o "-p $pg -k $t/pg -c listen_addresses=127.0.0.1" -l "$t/pg/log" -w start > /dev/null
  store_line="# url = \"postgres://interwork:secret@127.0.0.1:5432/interwork\""
  store_value="url = \"postgres://postgres@127.0.0.1:$pg/postgres\""
fi
sed -e "s/udp_listen = \"0.0.0.0:5060\"/udp_listen = \"127.0.0.1:$sip\"/" \
    -e "s/tcp_listen = \"0.0.0.0:5060\"/tcp_listen = \"127.0.0.1:$sip\"/" \
    -e "s/listen = \"0.0.0.0:2855\"/listen = \"127.0.0.1:$msrp\"/" \
    -e "s/listen = \"0.0.0.0:25\"/listen = \"127.0.0.1:$smtp\"/" \
    -e "s/delivery_port = 25/delivery_port = $mx/" \
    -e "s/# nameserver = \"127.0.0.1:5354\"/nameserver = \"127.0.0.1:$dns\"/" \
    -e "s|$store_line|$store_value|" \
    "${EXAMPLE:-$repo/examples/interwork.toml}" > "$t/interwork.toml"
(cd "$t" && INTERWORK_LOG=warn XDG_CACHE_HOME="$t/cache" XDG_STATE_HOME="$t/state" exec "$bin" run --config "$t/interwork.toml") &
gw=$!
for _ in $(seq 100); do
  (echo > /dev/tcp/127.0.0.1/$smtp) 2>/dev/null && break
  sleep 0.1
done
cat > "$t/uac.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="load">
<send retrans="500" start_rtd="1"><![CDATA[
MESSAGE sip:bob@mail.example.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:alice@im.example.test>;tag=[call_number]
To: <sip:bob@mail.example.test>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
Subject: load [call_number]
Content-Type: text/plain;charset=UTF-8
Content-Length: [len]

Message [call_number]: 你好, lunch at noon?
]]></send>
<recv response="100" optional="true"/>
<recv response="202" rtd="1"/>
</scenario>
XML
wal_syncs() {
  [ "$store" = postgres ] || { echo 0; return; }
  psql -X -A -t -h "$t/pg" -p "$pg" -U postgres -c "select wal_sync from pg_stat_wal" postgres 2>/dev/null || echo 0
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gw/stat"; }
if [ -n "${PERF:-}" ]; then
  # A CPU profile of the gateway during the run, written to $PERF.
  perf record -F 499 -g -p "$gw" -o "$PERF" 2>/dev/null &
  perf_pid=$!
  sleep 0.5
fi
if [ "${STRACE:-}" = 1 ]; then
  strace -f -c -e trace=fsync,fdatasync -o "$t/strace.txt" -p "$gw" 2>/dev/null &
  strace_pid=$!
  sleep 1
fi
syncs_before=$(wal_syncs)
cpu_before=$(cpu_ticks)
started=$(date +%s.%N)
(cd "$t" && sipp -sf uac.xml -i 127.0.0.1 -p "$(free_port)" -r "$rate" -m "$total" -l 2000 -nostdin \
   -timeout 300 -trace_stat -stf stats.csv -fd 1 127.0.0.1:"$sip" > /dev/null 2>&1) || true
ended=$(date +%s.%N)
# Let the queue drain what the first attempts left.
sleep 2
cpu_after=$(cpu_ticks)
syncs_after=$(wal_syncs)
last=$(tail -n 1 "$t/stats.csv")
head=$(head -n 1 "$t/stats.csv")
col() { echo "$head" | tr ';' '\n' | grep -nx "$1" | cut -d: -f1; }
val() { echo "$last" | cut -d';' -f"$(col "$1")"; }
case "$sink" in
  # smtp-sink -c rewrites its counter on one line (carriage returns).
  smtp-sink) mails=$(tr '\r' '\n' < "$t/sink/count" | grep -o '[0-9]\+' | tail -1) ;;
  aiosmtpd) mails=$(ls "$t/Maildir/new" | wc -l) ;;
esac
if [ -n "${perf_pid:-}" ]; then
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
fi
if [ -n "${strace_pid:-}" ]; then
  kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
  echo "fsync/fdatasync calls of the gateway (strace -c):"; grep -E 'fsync|fdatasync|total' "$t/strace.txt" || true
fi
ok=$(val 'SuccessfulCall(C)')
ticks=$(getconf CLK_TCK)
echo "rate=$rate/s total=$total elapsed=$(/usr/bin/python3 -c "print(round($ended - $started, 2))")s store=$store sink=$sink bin=$bin"
echo "successful=$ok failed=$(val 'FailedCall(C)') retransmissions=$(val 'Retransmissions(C)') mails=${mails:-?}"
echo "response time (avg, ms): $(val 'ResponseTime1(C)')"
/usr/bin/python3 -c "
ok = max(int('$ok' or 0), 1)
cpu = ($cpu_after - $cpu_before) / $ticks
print(f'gateway CPU: {cpu:.2f} s, {cpu / ok * 1e6:.0f} µs per message')
syncs = $syncs_after - $syncs_before
if '$store' == 'postgres':
    print(f'PostgreSQL WAL syncs: {syncs}, {syncs / ok:.3f} per message')
"
if [ "$store" = sqlite ]; then
  echo "store file: $(du -k "$t/store.sqlite" | cut -f1) KiB (+ WAL $(du -k "$t/store.sqlite-wal" 2>/dev/null | cut -f1) KiB)"
fi
