"""Checks on untrusted ticket text (input) and on drafts before they can reach a customer (output).

Each check is a pure function returning flags (reason codes); the pack's policy decides what a flag does.
"""
