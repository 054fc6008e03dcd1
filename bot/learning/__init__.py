"""The learning loop: staff decisions as training labels, the model registry, and the
promotion gate a retrained candidate must pass before the bot runs it."""
