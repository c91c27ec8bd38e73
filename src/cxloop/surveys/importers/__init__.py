"""Other survey tools' response exports read into cxloop surveys (issue 13)."""
