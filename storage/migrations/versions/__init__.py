"""Migration scripts, oldest first; each one's `down_revision` names the one before."""
