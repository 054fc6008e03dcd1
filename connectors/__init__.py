"""Platform connectors: the only code that imports tweepy and praw."""
