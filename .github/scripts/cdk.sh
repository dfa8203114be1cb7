#!/usr/bin/env bash
# The CDK CLI with this deployment's context, for the workflow's diff and deploy jobs (and for
# anyone reproducing them): TALLY_CDK_CONTEXT holds one key=value per line (the repository
# variable of that name; blank lines and lines starting with # are skipped), each passed as
# `-c key=value`, so the pull request's diff and main's deploy synthesize the same stack.
# Usage: TALLY_CDK_CONTEXT=$'senderEmail=costs@example.org\nadminEmail=jane@example.org' \
#          .github/scripts/cdk.sh diff Tally
set -euo pipefail

context=()
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line%$'\r'}"  # variables pasted from a Windows editor keep their carriage returns
  [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
  if [[ "$line" != *=* ]]; then
    echo "TALLY_CDK_CONTEXT: '$line' is not key=value" >&2
    exit 2
  fi
  context+=(-c "$line")
done <<<"${TALLY_CDK_CONTEXT:-}"

exec npx --yes aws-cdk@2 "$@" "${context[@]}"
