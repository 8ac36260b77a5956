"""What each endpoint does, in domain terms: rules + store, no HTTP."""
