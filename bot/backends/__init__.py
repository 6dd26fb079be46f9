"""Number backends: where numbers live (the bot's own database, or a Kazoo cluster)."""
