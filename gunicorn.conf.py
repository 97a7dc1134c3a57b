"""gunicorn's settings for the Procfile's ``web`` process: see ``bot/web_config.py``."""

from bot.web_config import *  # noqa: F403
