"""The event path every platform shares: ingress, inbox worker, delivery worker.

See ``docs/runtime.md``. ``bot.runtime.process.Runtime`` puts them together for a process.
"""
