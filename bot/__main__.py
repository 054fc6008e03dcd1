"""``python -m bot`` runs the complaintbot CLI."""

from bot.cli import main

main()
