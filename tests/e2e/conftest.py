"""Real-browser tests; their fixtures (browser, page, login, screenshot) live in tests/conftest.py
so that browser tests of other apps share the one Playwright instance."""
