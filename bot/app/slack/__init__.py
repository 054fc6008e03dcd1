"""The Slack adapter: slack_sdk behind ``SlackPort``, and Bolt for what staff click."""
