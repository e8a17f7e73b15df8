"""The audit log: who changed (or read) what, when, with the values before and after."""
