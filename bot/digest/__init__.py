"""The weekly complaint digest: numbers from SQL, rendered as text, Markdown, HTML, JSON or Slack.

Submodules are imported where they are used; importing this package does nothing.
"""
