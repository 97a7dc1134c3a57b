"""Slack platform adapter: Bolt app, payload parsing, Block Kit rendering, Web API messenger.

Five small modules do the translating (``ids``, ``parse``, ``render``, ``listeners``,
``messenger``); ``app`` builds the Bolt app and ``serve`` runs it over HTTP or Socket Mode.
"""
