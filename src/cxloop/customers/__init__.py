"""Who customers are: persons (B2C), accounts and their contacts (B2B), projects, identities."""
