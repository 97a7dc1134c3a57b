"""Platform adapters: translate payloads to neutral events and neutral messages to the platform."""
