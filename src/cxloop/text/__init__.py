"""Understand text: language, words, sentiment, topics, intent, emotion and PII, offline, zh + en.

Pure: text in, features out; nothing here touches the store.
"""
