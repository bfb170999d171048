"""Pure follow-up policy and quiet-hours rules: standard library only, no I/O."""
