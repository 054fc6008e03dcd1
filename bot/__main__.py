"""``python -m bot`` runs the complaintbot CLI."""

from bot.app.cli import main

main()
