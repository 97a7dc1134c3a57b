"""The local console platform: a terminal channel for trying and scripting sessions."""
