"""Use cases: take a neutral event, load state, call the flow, save, return outbound messages."""
