"""qaflow's application layer: the command line, wiring engine and storage; `presentation/` builds its JSON."""
