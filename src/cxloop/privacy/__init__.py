"""Who may do what: users, roles, API tokens (and later consent, masking, audit)."""
