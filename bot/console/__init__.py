"""The offline console: a Slack stand-in, a driver that plays a person, and a text renderer."""
