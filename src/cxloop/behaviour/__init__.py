"""What customers do: orders, events (page views, feature use, logins…) and subscriptions."""
