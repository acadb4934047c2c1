"""The shipped workflow catalogue: installed as the package `qaflow.catalogue`.

This folder holds YAML, not code. The file exists so that the folder is a regular package
when installed, whose files `importlib.resources` hands back as a real directory (see
docs/decisions.md, "Packaging"). `qaflow validate` and `deploy` read only `*.yaml` here, and
`qaflow init` copies everything but this file.
"""
