"""numbers-bot: manage a company's phone numbers from Slack."""
