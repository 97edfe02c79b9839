#!/usr/bin/env bash
# Clean vs 20 % fault fetch of the same window: wall times, faults, resource warnings, and whether the built tables
# are identical.  Usage: bash benchmarks/bench_faults.sh  (needs make setup)
set -u
cd "$(dirname "$0")/.."
B=.venv/bin
TODAY=$(date -u +%F)
SINCE=$(date -u -d "$TODAY -14 day" +%F); UNTIL=$(date -u -d "$TODAY -4 day" +%F)
for rate in 0 0.2; do
  rm -rf /tmp/fx_$rate; mkdir -p /tmp/fx_$rate
  $B/copilot-usage simulate serve --seed 13 --users 200 --days 90 --fault-rate $rate > /tmp/fx_$rate/sim.json 2>/tmp/fx_$rate/sim.err &
  SP=$!
  for i in $(seq 50); do [ -s /tmp/fx_$rate/sim.json ] && break; sleep 0.2; done
  INFO=$(head -1 /tmp/fx_$rate/sim.json)
  URL=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["base_url"])')
  export GITHUB_TOKEN=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export COPILOT_BILLING_TOKEN=$(echo "$INFO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["billing_token"])')
  s=$(date +%s.%N)
  $B/copilot-usage fetch --org octo-sim-eng --enterprise octo-sim --base-url $URL --since $SINCE --until $UNTIL --data-dir /tmp/fx_$rate/data > /tmp/fx_$rate/out.txt 2>/tmp/fx_$rate/err.txt
  rc=$?
  e=$(date +%s.%N)
  echo "fault_rate=$rate rc=$rc wall=$(python3 -c "print(round($e-$s,1))")s warnings=$(grep -ci 'unclosed\|ResourceWarning\|Traceback' /tmp/fx_$rate/err.txt)"
  curl -s $URL/_sim/record | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" faults", sum(d.get("faults",{}).values()), "api", d.get("api_requests"), "violations", d.get("limit_violations"))'
  kill $SP; wait $SP 2>/dev/null
  $B/copilot-usage build --data-dir /tmp/fx_$rate/data > /dev/null 2>&1
done
$B/python - <<'PY'
import polars as pl
from copilot_usage.cache import read
for t in ("user_day","user_feature_day","aggregate_day","user_team_day","repo_day"):
    a=read.scan("/tmp/fx_0/data",t).collect().sort(pl.all()); b=read.scan("/tmp/fx_0.2/data",t).collect().sort(pl.all())
    print(t, a.height, "identical" if a.equals(b) else "DIFFERENT")
PY
