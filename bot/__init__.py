"""The application core: config, store, cases, policy and the CLI; no vendor SDKs."""
