#!/usr/bin/env bash
# The main job (`make run`): one case file audit from selection to closure on SQLite.
# Every step is a plain `qaflow` command, printed before it runs, so it can be copied.
# The clock is set with --now (--allow-clock-override) so the dates tell a story.
set -euo pipefail
# The workflows folder is the one this script sits in (a checkout's workflows/, or wherever
# `qaflow init DIR` copied the catalogue); the demo database goes in the current folder.
WORKFLOWS_DIR=$(cd "$(dirname "$0")/.." && pwd)
export QAFLOW_WORKFLOWS="$WORKFLOWS_DIR"

# the checkout's own qaflow when there is one, else the one on PATH
if [ -z "${QAFLOW:-}" ]; then
  if [ -x "$WORKFLOWS_DIR/../.venv/bin/qaflow" ]; then QAFLOW="$WORKFLOWS_DIR/../.venv/bin/qaflow"; else QAFLOW=qaflow; fi
fi
DB_FILE=${DB_FILE:-qaflow-demo.db}
export QAFLOW_DB="sqlite:///$DB_FILE"
rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"

step() {  # step "explanation" command...
  echo
  echo "# $1"
  shift
  echo "\$ qaflow $*"
  "$QAFLOW" "$@"
}
on() {  # on DATE command...: run as if it were 09:00 London time on DATE
  local day=$1
  shift
  "$QAFLOW" --allow-clock-override --now "${day}T09:00:00Z" "$@"
}
say() { echo; echo "# $1"; echo "\$ qaflow --now $2T09:00:00Z ${*:3}"; on "$2" "${@:3}"; }

step "Create the database schema" db upgrade
step "Store the shipped workflows (a new version is refused unless its number is bumped)" deploy

echo
echo "# 2 March: the QA lead selects case CF-2041 at random; the practitioner and team manager are named"
echo "\$ qaflow start case_file_audit --as qa-lead-1 --role qa_lead --set child_ref=CF-2041 ..."
ID=$(on 2026-03-02 start case_file_audit --as qa-lead-1 --role qa_lead \
  --set child_ref=CF-2041 --set case_type=cp --set team=North --set case_status=open --set selection_method=random \
  --assign practitioner=sw-12 --assign team_manager=tm-3)
echo "$ID"

say "3 March: allocated to a trained auditor (due in 28 days)" 2026-03-03 \
  fire "$ID" allocate --as qa-lead-1 --role qa_lead --set auditor_trained=true --assign auditor=aud-7
say "What may the auditor do now?" 2026-03-03 available "$ID" --as aud-7 --role auditor
say "Would the practitioner be allowed to arrange the meeting? (explain changes nothing)" 2026-03-03 \
  explain "$ID" arrange_meeting --as sw-12 --role auditor
echo
echo "# ... and when they try anyway, the refusal names the role; it goes in the security log, not the history"
echo "\$ qaflow fire $ID arrange_meeting --as sw-12 --role auditor --set meeting_date=2026-03-12"
on 2026-03-03 fire "$ID" arrange_meeting --as sw-12 --role auditor --set meeting_date=2026-03-12 || echo "(exit $?: refused)"
say "4 March: the auditor tells the practitioner and fixes the meeting" 2026-03-04 \
  fire "$ID" arrange_meeting --as aud-7 --role auditor --set practitioner_notified_on=2026-03-04 --set meeting_date=2026-03-12
say "11 March: the review of the record starts (looking back 6 months)" 2026-03-11 fire "$ID" start_review --as aud-7 --role auditor
say "12 March: the reflective discussion is held" 2026-03-12 \
  fire "$ID" record_discussion --as aud-7 --role auditor --set meeting_held=true --set "attendees=[sw-12, aud-7]" \
  --set "discussion_note=Walked through the child's journey together."
say "15 March: findings drafted (graded Good)" 2026-03-15 \
  fire "$ID" draft_findings --as aud-7 --role auditor --data-file "$WORKFLOWS_DIR/examples/case_file_audit_findings.yaml"
say "16 March: findings shared with the practitioner and team manager (no surprises)" 2026-03-16 \
  fire "$ID" share_findings --as aud-7 --role auditor
say "17 March: the practitioner agrees" 2026-03-17 fire "$ID" respond --as sw-12 --role practitioner --set practitioner_response=agree
say "18 March: the audit is on the child's file" 2026-03-18 \
  fire "$ID" complete --as aud-7 --role auditor --set audit_document_ref=DOC-88412
say "19 March: the team manager records management oversight" 2026-03-19 \
  fire "$ID" record_oversight --as tm-3 --role team_manager --set oversight_note_ref=MO-551 \
  --set "oversight_note=Actions reviewed in monthly supervision."
say "31 March: not drawn for moderation, so the audit closes with the auditor's grade" 2026-03-31 \
  fire "$ID" moderation_not_selected --as qa-lead-1 --role qa_lead

step "The audit now" show "$ID"
step "Its history, refused attempts included" history "$ID" --refusals
step "Every history chain recomputed and compared with the instances" verify

cat <<EOT

Done: case file audit $ID went from selection to closure in $DB_FILE.
Next:
  - try other routes: $QAFLOW --db sqlite:///$DB_FILE explain $ID withdraw --as qa-lead-1 --role qa_lead
  - draw the process:  $QAFLOW diagram case_file_audit
  - change the process: edit $WORKFLOWS_DIR/case_file_audit.yaml, bump its version, run
    $QAFLOW validate $WORKFLOWS_DIR (the authoring guide, docs/authoring.md in qaflow's
    source, explains the language)
EOT
