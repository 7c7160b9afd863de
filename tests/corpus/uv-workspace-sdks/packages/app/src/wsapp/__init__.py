"""The app member: not installed, it runs from the app code (PYTHONPATH)."""
