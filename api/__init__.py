"""The HTTP API and the public results page (FastAPI). Build the app with :func:`create_app`."""

from api.app import create_app
from api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
