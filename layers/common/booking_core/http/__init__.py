"""HTTP plumbing shared by the handlers: the resolver, auth, request parsing, problems."""
