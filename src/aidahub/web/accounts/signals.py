"""Signal receivers of the accounts app (filled in by the sign-in and identity work)."""
