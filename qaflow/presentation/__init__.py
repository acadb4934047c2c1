"""Public JSON: the one place it is built, for the command line and any other front end.

`shapes` types every output, `build` makes each from what the engine gives back, and
`schemas` generates the published JSON Schemas (docs/cli-json/) from the shapes. Stored
forms (idempotency results, the security log) are the engine's and never these.
"""
