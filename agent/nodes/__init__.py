"""One module per graph node; each is a `(state, runtime) -> partial update` function."""
