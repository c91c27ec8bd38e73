"""Act: target lists that combine voice and behaviour, previewed, exported, pushed and refreshed."""
