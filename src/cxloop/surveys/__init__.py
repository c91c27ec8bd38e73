"""Surveys: definitions, the respondent form, distribution, reminders, caps, response rates."""
