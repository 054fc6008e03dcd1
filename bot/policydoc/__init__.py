"""The Customer Complaints Policy and Procedures, rendered from the configuration the bot runs on.

The document is built as plain data (``model``) from ``Config`` and the code's own tables, then
written as Markdown, HTML or Word; ``floors`` checks the configuration against California's
legal minimums. Nothing here is imported at start-up: the CLI loads it when asked.
"""
