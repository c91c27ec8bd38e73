"""What Qualtrics' metadata columns are called and mean, in both layouts and value modes.

Row 3's ImportIds (``startDate``, ``_recordId``) are fixed whatever the account language; row 1's
tags back them up; the legacy exporter's ``V1..V10`` positions replace both. Pure data.
"""

from __future__ import annotations

META_IDS = {
    "startDate": "start",
    "endDate": "end",
    "status": "status",
    "ipAddress": "ip",
    "progress": "progress",
    "duration": "duration",
    "finished": "finished",
    "recordedDate": "recorded",
    "_recordId": "response_id",
    "recipientLastName": "last_name",
    "recipientFirstName": "first_name",
    "recipientEmail": "email",
    "externalDataReference": "external_reference",
    "locationLatitude": "latitude",
    "locationLongitude": "longitude",
    "distributionChannel": "channel",
    "userLanguage": "language",
}
META_TAGS = {
    "StartDate": "start",
    "EndDate": "end",
    "Status": "status",
    "IPAddress": "ip",
    "Progress": "progress",
    "Duration (in seconds)": "duration",
    "Finished": "finished",
    "RecordedDate": "recorded",
    "ResponseId": "response_id",
    "RecipientLastName": "last_name",
    "RecipientFirstName": "first_name",
    "RecipientEmail": "email",
    "ExternalReference": "external_reference",
    "LocationLatitude": "latitude",
    "LocationLongitude": "longitude",
    "DistributionChannel": "channel",
    "UserLanguage": "language",
}
LEGACY_V = {
    "V1": "response_id",
    "V2": "response_set",
    "V3": "name",
    "V4": "external_reference",
    "V5": "email",
    "V6": "ip",
    "V7": "status",
    "V8": "start",
    "V9": "end",
    "V10": "finished",
    "LocationLatitude": "latitude",
    "LocationLongitude": "longitude",
    "LocationAccuracy": "location_accuracy",
}
MEANING = {
    "start": "started_at",
    "end": "submitted_at when RecordedDate is absent (attribute end_date_raw)",
    "recorded": "submitted_at",
    "status": "preview/test/spam rows excluded",
    "ip": "ip (personal)",
    "progress": "completed (with Finished); attribute progress",
    "duration": "attribute duration_seconds",
    "finished": "completed",
    "response_id": "response id",
    "last_name": "name (personal)",
    "first_name": "name (personal)",
    "name": "name (personal)",
    "email": "email (personal)",
    "external_reference": "external reference (customer id)",
    "latitude": "location lat,lon (personal)",
    "longitude": "location lat,lon (personal)",
    "channel": "channel",
    "language": "language (en/zh)",
    "response_set": "attribute response_set",
    "location_accuracy": "attribute location_accuracy",
}
REAL = {"0", "IP Address", "4", "Imported", "16", "Offline"}
STATUS = {
    "1": "preview",
    "Survey Preview": "preview",
    "17": "preview",
    "Offline Survey Preview": "preview",
    "2": "test",
    "Survey Test": "test",
    "8": "spam",
    "Spam": "spam",
    "9": "spam",
    "Survey Preview Spam": "spam",
    "12": "spam",
    "Imported Spam": "spam",
}
NPS_GROUPS = {
    "1": "detractor",
    "2": "passive",
    "3": "promoter",
    "detractor": "detractor",
    "passive": "passive",
    "promoter": "promoter",
}
"""``Qn_NPS_GROUP`` in both value modes (other languages' labels are not checked)."""
YES = ("1", "true", "wahr", "ja", "yes", "vrai", "verdadero", "是")
"""Finished as choice text writes it (the account's language)."""
