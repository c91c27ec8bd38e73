"""The one door data enters by: read, map, validate, quarantine, upsert."""
