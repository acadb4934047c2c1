"""What the command-line tests share: the case file audit as the QA lead selects it."""

from __future__ import annotations

QA_LEAD = ("--as", "qa-lead-1", "--role", "qa_lead")
CASE = {"child_ref": "CF-2041", "case_type": "cp", "team": "North", "case_status": "open", "selection_method": "random"}


def start_args(**data: str) -> list[str]:
    """`qaflow start case_file_audit ...` for case CF-2041, with practitioner and team manager named."""
    args = ["start", "case_file_audit", *QA_LEAD]
    for name, value in {**CASE, **data}.items():
        args += ["--set", f"{name}={value}"]
    return [*args, "--assign", "practitioner=sw-12", "--assign", "team_manager=tm-3"]
