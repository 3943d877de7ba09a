"""Business operations of the audiences app, as keyword-only functions in transactions."""
