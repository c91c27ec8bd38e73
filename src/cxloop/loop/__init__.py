"""Loop: close the loop on unhappy customers — business calendars and SLA deadlines so far."""
