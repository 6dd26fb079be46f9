"""Stand-ins for what the bot talks to, shared by the tests and the benchmarks.

Development only (not part of the installed package). The stand-in Slack is
`bot/console/` (the terminal console drives it too).
"""
