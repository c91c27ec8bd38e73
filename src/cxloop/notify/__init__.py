"""The one sender: mail through SMTP and signed webhooks, called by surveys, loop and act."""
