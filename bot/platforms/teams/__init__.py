"""Microsoft Teams adapter (Teams SDK for Python, the optional ``teams`` extra).

Nothing here imports the SDK at import time: ``app.build_teams`` does, and only when
Teams is configured, so the Slack and console paths start as fast as before.
"""
