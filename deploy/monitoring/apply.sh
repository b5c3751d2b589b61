#!/usr/bin/env bash
# Creates (or updates) opsync's log-based metrics and alert policies in Cloud Monitoring. docs/deploy.md, step 9.
#   deploy/monitoring/apply.sh <project-id> [notification-channel ...]
# A channel is a full name (projects/<id>/notificationChannels/<n>, from `gcloud beta monitoring channels list`).
# Safe to run again: metrics are updated in place, a policy with the same display name is updated, not duplicated.
set -euo pipefail
project="${1:?usage: deploy/monitoring/apply.sh <project-id> [notification-channel ...]}"
shift
dir="$(cd "$(dirname "$0")" && pwd)"
channels="$(IFS=,; echo "$*")"

for file in "$dir"/metrics/*.json; do
  name="$(basename "$file" .json)"
  if gcloud logging metrics describe "$name" --project "$project" >/dev/null 2>&1; then
    gcloud logging metrics update "$name" --project "$project" --config-from-file "$file"
  else
    gcloud logging metrics create "$name" --project "$project" --config-from-file "$file"
  fi
done

for file in "$dir"/policies/*.json; do
  display="$(node -e 'process.stdout.write(require(process.argv[1]).displayName)' "$file")"
  existing="$(gcloud monitoring policies list --project "$project" --filter "displayName=\"$display\"" --format 'value(name)' | head -n 1)"
  if [ -n "$existing" ]; then
    gcloud monitoring policies update "$existing" --project "$project" --policy-from-file "$file" ${channels:+--set-notification-channels "$channels"}
  else
    gcloud monitoring policies create --project "$project" --policy-from-file "$file" ${channels:+--notification-channels "$channels"}
  fi
done
echo "opsync monitoring applied to $project: $(ls "$dir"/metrics | wc -l) log-based metrics, $(ls "$dir"/policies | wc -l) alert policies"
