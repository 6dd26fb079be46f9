"""The bot's database: models, repositories, unit of work and migrations."""
