"""The workflow language: from YAML text to a checked `Workflow` (DESIGN §3).

Loading runs in fixed stages, each feeding one list of issues (`loader`): the strict YAML
reader with positions (`yamlsource`), the structural check and "did you mean" for keys
(`structure`), the pydantic model (`definition`, `fieldtypes`), lint and graph checks
(`lint`, `graph`), and the loaded form the runtime compiles (`workflow`). Diagrams
(`diagram`) and message templates (`templates`) read the definition only.
"""
