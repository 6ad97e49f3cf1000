#!/usr/bin/env bash
# Example incident runbook (docs/runbooks.md): a user-facing incident from
# detection to resolution, with the notifications the process requires.
# Every step has a --key, so the whole script is safe to run again after a
# failure: steps already recorded print "[already recorded]" and append nothing.
#   DTLEDGER_ACTOR=max-eng Scripts/runbooks/incident.sh
# Uses $DTLEDGER (default: dtledger on the PATH) and the usual database settings.
set -euo pipefail
dtl=${DTLEDGER:-dtledger}
run=${RUNBOOK_RUN:-$(date +%Y%m%d%H%M%S)}   # one id per incident: makes the keys unique
channel="#mhv-health-portal-coordination"

# 1. Open the incident; the ledger generates the case id (INC-YYYY-NNNN).
case_id=$($dtl incident open --key "$run/open" --team user-facing --product medications \
    --summary "Medications list fails to load on VA.gov" --services medications --users 1500 \
    --started-at "$(date -u -d '-25 minutes' +%Y-%m-%dT%H:%M:%SZ)" --json |
    sed -n 's/.*"case":"\([^"]*\)".*/\1/p')
export DTLEDGER_CASE=$case_id
echo "case: $DTLEDGER_CASE"

content=(--content "summary=Medications list fails to load on VA.gov"
         --content "estimated_user_impact=About 1,500 users; Medications"
         --content "start_time=$(date -d '-25 minutes' '+%Y-%m-%d %H:%M %Z')")

# 2. STEP ONE: tag MHV API/Platform in the channel.
$dtl notify slack --key "$run/step-one" --destination "$channel" --audience @mhv-api-platform \
    --purpose initial "${content[@]}"

# 3. Rate it, then update the initial message with the priority (P3/P4 path).
$dtl incident priority --key "$run/p3" --priority P3 --reason "Tier 1 service, >0 users/day"
$dtl notify slack --key "$run/p3-edit" --destination "$channel" --audience ana-po,ben-po,kim-pm,@mhv-horizon \
    --purpose priority "${content[@]}" --content priority=P3

# 4. Raised to P1: the wider audience, on Slack and by email.
$dtl incident priority --key "$run/p1" --priority P1 --reason "Error rate rising"
audience=@mhv-api-platform,ana-po,ben-po,@octo-health-engineers,greg-kirk,sean-good,@mhv-horizon,chante
$dtl notify slack --key "$run/p1-slack" --destination "$channel" --audience "$audience" \
    --purpose priority "${content[@]}" --content priority=P1
$dtl notify email --key "$run/p1-email" --destination mhv-incidents@example.org \
    --audience mhv-api-platform@example.org,ana.ortiz@example.org,ben.park@example.org,octo-health-engineers@example.org,greg.kirk@example.org,sean.good@example.org,mhv-horizon@example.org,chante@example.org \
    --purpose priority "${content[@]}" --content priority=P1

# 5. Solution determined, resolved, and the closing update.
$dtl incident milestone --key "$run/solution" --kind solution_determined --note "Stale cache entries"
$dtl notify slack --key "$run/solution-update" --destination "$channel" --audience "$audience" \
    --purpose milestone "${content[@]}" --content "status=Solution determined: purge cache"
$dtl incident resolve --key "$run/resolved" --resolution "Cache purged; error rate back to baseline"
$dtl notify slack --key "$run/resolved-update" --destination "$channel" --audience "$audience" \
    --purpose resolved "${content[@]}" --content "status=Resolved"

$dtl status "$DTLEDGER_CASE"
