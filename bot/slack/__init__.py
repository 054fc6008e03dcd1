"""The Slack boundary: ``port`` is what the core calls; ``web`` adapts slack_sdk to it."""
