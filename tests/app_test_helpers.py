"""Helpers for Streamlit AppTest tests (imported by tests as a plain module)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def signed_in_app(timeout: float = 90) -> AppTest:
    """The app, with the session signed in as the local practitioner."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    return at
