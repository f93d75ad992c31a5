"""Conversation trees built by several LLM roles, and their flattening into SFT/DPO data."""
