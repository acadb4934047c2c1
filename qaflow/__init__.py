"""qaflow's application layer: the command line (later HTTP and reports), wiring engine and storage."""
