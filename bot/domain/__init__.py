"""Value objects, rules and state machines. No I/O and no project imports outside this package."""
