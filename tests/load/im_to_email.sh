#!/usr/bin/env bash
# Load harness for the whole IM → e-mail path: sipp sends MESSAGEs at a
# fixed rate to the release gateway, which delivers each by MX (dnsmasq) to
# aiosmtpd. Prints sipp's counters and the mails received.
#
#   cargo build --release -p interwork
#   tests/load/im_to_email.sh [RATE per second] [TOTAL]
#
# Everything runs on 127.0.0.1, bounded by TOTAL, and stops by itself.
set -euo pipefail
rate=${1:-100}
total=${2:-2000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/target/release/interwork
[ -x "$bin" ] || { echo "build it first: cargo build --release -p interwork" >&2; exit 2; }
t=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$t"' EXIT
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
/usr/bin/python3 "$repo/tests/peers/smtp_sink.py" "$mx" "$t/Maildir" > /dev/null &
sed -e "s/udp_listen = \"0.0.0.0:5060\"/udp_listen = \"127.0.0.1:$sip\"/" \
    -e "s/tcp_listen = \"0.0.0.0:5060\"/tcp_listen = \"127.0.0.1:$sip\"/" \
    -e "s/listen = \"0.0.0.0:2855\"/listen = \"127.0.0.1:$msrp\"/" \
    -e "s/listen = \"0.0.0.0:25\"/listen = \"127.0.0.1:$smtp\"/" \
    -e "s/delivery_port = 25/delivery_port = $mx/" \
    -e "s/# nameserver = \"127.0.0.1:5354\"/nameserver = \"127.0.0.1:$dns\"/" \
    "$repo/examples/interwork.toml" > "$t/interwork.toml"
(cd "$t" && INTERWORK_LOG=warn XDG_CACHE_HOME="$t/cache" "$bin" run --config "$t/interwork.toml") &
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
started=$(date +%s.%N)
(cd "$t" && sipp -sf uac.xml -i 127.0.0.1 -p "$(free_port)" -r "$rate" -m "$total" -l 500 -nostdin \
   -timeout 300 -trace_stat -stf stats.csv -fd 1 127.0.0.1:"$sip" > /dev/null 2>&1) || true
ended=$(date +%s.%N)
last=$(tail -n 1 "$t/stats.csv")
head=$(head -n 1 "$t/stats.csv")
col() { echo "$head" | tr ';' '\n' | grep -nx "$1" | cut -d: -f1; }
val() { echo "$last" | cut -d';' -f"$(col "$1")"; }
mails=$(ls "$t/Maildir/new" | wc -l)
echo "rate=$rate/s total=$total elapsed=$(/usr/bin/python3 -c "print(round($ended - $started, 2))")s"
echo "successful=$(val 'SuccessfulCall(C)') failed=$(val 'FailedCall(C)') retransmissions=$(val 'Retransmissions(C)') mails=$mails"
echo "response time (avg, ms): $(val 'ResponseTime1(C)')"
