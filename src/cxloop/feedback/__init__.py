"""Voice of the customer: every survey answer, review, post, ticket, chat and email."""
