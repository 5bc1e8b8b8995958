#!/bin/sh
# scripts/tour.sh - the guided tour (`make tour`): the Alibaba Cloud 2021-2023
# story from the seed, calibrated, projected under competing strategies, with
# uncertainty, sensitivity and charts. Everything goes to out/tour/.
#   STRATSIM=path/to/stratsim OUT=dir [RUNS=2000] scripts/tour.sh
set -eu
S=${STRATSIM:-build/stratsim}
O=${OUT:-out/tour}
D=scenarios/data/china_public_cloud_iaas.csv
RUNS=${RUNS:-2000} # Monte Carlo runs (the tests use fewer)
mkdir -p "$O"
have_gnuplot=0
command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1
step() { printf '\n== %s\n' "$*"; }
says() { printf '   %-34s %s\n' "$1" "$2"; }

step "1. Calibrate the baseline to IDC's three share figures"
"$S" calibrate scenarios/baseline.lua --data "$D" -o "$O/calibration_residuals.csv"

step "2. Project the strategies to 2030"
"$S" compare scenarios/status_quo.lua scenarios/ai_public_first.lua \
    scenarios/price_war.lua scenarios/outage_stress.lua -o "$O/strategies.csv" >"$O/strategies.txt"
head -n 8 "$O/strategies.txt"; echo "   ... (full table in $O/strategies.txt)"

step "3. Monte Carlo of the flagship under recurring outages ($RUNS runs)"
"$S" mc scenarios/outage_stress.lua --runs "$RUNS" --seed 2023 -o "$O/outage_mc.csv"
# -o writes the file only: show Alibaba's shares and NPV at the last time from it
awk -F, -v runs="$RUNS" 'NR > 1 { last = $2 } { row[NR] = $0 } END {
    printf "   %-34s %9s %9s %9s\n", "Alibaba at " last " (" runs " runs)", "p05", "p50", "p95"
    for (i = 2; i <= NR; i++) {
        split(row[i], f, ",")
        if (f[2] != last || f[3] != "alibaba") continue
        if (f[5] == "share")
            printf "     share %-26s %8.2f%% %8.2f%% %8.2f%%\n", f[4], 100 * f[8], 100 * f[9], 100 * f[10]
        else if (f[5] == "npv")
            printf "     npv %-28s %9.1f %9.1f %9.1f\n", "", f[8], f[9], f[10]
    }
}' "$O/outage_mc.csv"
echo "   ... (every metric and time in $O/outage_mc.csv)"

step "4. Which assumptions matter? Tornado of the baseline"
"$S" sens scenarios/baseline.lua --method tornado \
    --outputs share:alibaba:public@2030,npv:alibaba -o "$O/tornado.csv"

step "5. The value/share frontier (optimiser)"
"$S" check scenarios/strategy_frontier.lua 2>&1 | head -n 9

if [ "$have_gnuplot" = 1 ]; then
    step "6. Charts"
    "$S" plot "$O/strategies.csv" --metric share --provider alibaba --segment public \
        --overlay "$D" --title "Alibaba Cloud public-cloud share: IDC data and strategies" \
        -o "$O/share_public.png"
    "$S" plot "$O/outage_mc.csv" --metric share --provider alibaba --segment public \
        --title "Alibaba public-cloud share under recurring outages (Monte Carlo)" -o "$O/outage_fan.png"
    "$S" plot "$O/strategies.csv" --kind stacked --provider alibaba --scenario ai_public_first \
        --unit "CNY bn / year" -o "$O/alibaba_revenue.png"
    "$S" plot "$O/tornado.csv" --select share:alibaba:public@2030 -o "$O/tornado.png"
    echo "   share_public.png, outage_fan.png, alibaba_revenue.png and tornado.png in $O"
else
    step "6. Charts skipped: gnuplot not found (scripts/install-deps.sh installs gnuplot-nox)"
fi

step "What is in $O"
says calibration_residuals.csv "observed vs fitted share at each IDC point (+ .json sidecar)"
says strategies.txt "the side-by-side comparison printed by compare"
says strategies.csv "status quo, AI/public first, price war, outage stress to 2030 (long CSV)"
says outage_mc.csv "mean, sd and 5/50/95% quantiles of every metric ($RUNS runs, seed 2023)"
says tornado.csv "each uncertain assumption at its 5% and 95% quantile, ranked by swing"
if [ "$have_gnuplot" = 1 ]; then
    says share_public.png "Alibaba's public-cloud share per strategy, with the IDC points"
    says outage_fan.png "fan chart: 5-95% band and median of that share under outages"
    says alibaba_revenue.png "Alibaba's revenue by segment in the flagship (stacked)"
    says tornado.png "the assumptions that move the 2030 public share most"
fi
