"""The triage agent: a LangGraph state machine over a domain pack, with no web or database code."""

__version__ = "0.1.0"
