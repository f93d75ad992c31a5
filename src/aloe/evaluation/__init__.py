"""The ALOE benchmark: role-played multi-turn chats scored 1-5 by a judge."""
