"""Pure domain: methods, the session state machine, records. No I/O, no wall clock."""
