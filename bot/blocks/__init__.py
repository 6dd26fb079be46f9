"""Block Kit builders: pure functions of view models, built with `slack_sdk.models`."""
