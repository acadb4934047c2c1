"""The tamper-evident history: hash chains, `verify`, and checkpoints (DESIGN §4.5)."""
