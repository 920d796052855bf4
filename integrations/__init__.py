"""Ticketing adapters: the built-in local helpdesk now; Request Tracker, Zendesk, Jira SM, ServiceNow and
Freshdesk behind the same contract."""
