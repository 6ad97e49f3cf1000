#!/usr/bin/env bash
# Example planned-downtime runbook (docs/runbooks.md): an API/Platform
# downtime from planning to conclusion. Safe to re-run (every step has a --key).
#   DTLEDGER_ACTOR=tara-lead Scripts/runbooks/planned-downtime.sh
# Uses $DTLEDGER (default: dtledger on the PATH) and the usual database settings.
set -euo pipefail
dtl=${DTLEDGER:-dtledger}
run=${RUNBOOK_RUN:-$(date +%Y%m%d%H%M%S)}
start=$(date -u -d '+12 days 02:00' +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d '+12 days 06:00' +%Y-%m-%dT%H:%M:%SZ)
channel="#mhv-health-portal-coordination"

# 1. Planning starts: the ledger generates the case id (PD-YYYY-NNNN).
case_id=$($dtl downtime plan --key "$run/planned" --team api-platform --product medications \
    --title "MHV API database upgrade" --reason "PostgreSQL major version upgrade" \
    --services medications,secure-messaging --users 40000 --start "$start" --end "$end" \
    --rollback-plan "Restore the pre-upgrade snapshot (30 minutes)" --json |
    sed -n 's/.*"case":"\([^"]*\)".*/\1/p')
export DTLEDGER_CASE=$case_id
echo "case: $DTLEDGER_CASE"

content=(--content "reason=PostgreSQL major version upgrade"
         --content "anticipated_impact=About 40,000 users; Medications and Secure Messaging unavailable"
         --content "timeframe=$start to $end"
         --content "rollback_plan=Restore the pre-upgrade snapshot (30 minutes)")
slack_audience=ana-po,ben-po,@octo-health-engineers,greg-kirk,sean-good,@mhv-uf-oncall,kim-pm,@mhv-horizon,ivy-isso
email_audience=ana.ortiz@example.org,ben.park@example.org,octo-health-engineers@example.org,greg.kirk@example.org,sean.good@example.org,mhv-uf-oncall@example.org,kim.diaz@example.org,mhv-horizon@example.org,ivy.stone@example.org

# 2. Planning notifications.
$dtl notify slack --key "$run/planning-slack" --destination "$channel" --audience "$slack_audience" --purpose planning "${content[@]}"
$dtl notify email --key "$run/planning-email" --destination mhv-downtime@example.org --audience "$email_audience" --purpose planning "${content[@]}"

# 3. SNOW change approved by the System Owner; PagerDuty window set and verified.
$dtl ticket submit --key "$run/snow" --number "CHG$run" --purpose downtime_approval
$dtl ticket approve --key "$run/approval" --ticket "CHG$run" --approver sean-good --actor sean-good
$dtl window set --key "$run/pd-window" --window-id "PW$run" --start "$start" --end "$end" --services mhv-api --actor nia-eng
$dtl window verify --key "$run/pd-verify" --window-id "PW$run" --actor max-eng

# 4. The day before, the window itself, and the concluded notifications
#    (run these steps on the day; shown here end to end).
$dtl notify slack --key "$run/daybefore-slack" --destination "$channel" --audience "$slack_audience" --purpose day_before "${content[@]}" \
    --at "$(date -u -d '+11 days 14:00' +%Y-%m-%dT%H:%M:%SZ)"
$dtl downtime start --key "$run/started" --at "$start" --actor nia-eng
$dtl downtime conclude --key "$run/concluded" --outcome completed --at "$end" --actor nia-eng
$dtl notify slack --key "$run/concluded-slack" --destination "$channel" --audience "$slack_audience" --purpose concluded "${content[@]}" --at "$end"

$dtl status "$DTLEDGER_CASE"
