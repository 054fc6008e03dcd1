"""Privacy (CCPA/CPRA): requests and their legal clocks, the request log (11 CCR 7101), and
export, erasure and retention of what the bot holds about a person."""
