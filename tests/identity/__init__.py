"""Identity: signing in, sessions and API tokens, one's own account, password reset links."""
