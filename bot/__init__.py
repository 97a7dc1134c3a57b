"""intervision-bot: structured peer consultation in chat threads."""
