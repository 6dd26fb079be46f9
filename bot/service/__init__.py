"""The use cases. Every call takes the acting user (`Actor`); roles are checked here."""
