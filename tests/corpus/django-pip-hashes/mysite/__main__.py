"""`python -m mysite`: the site's system checks, then one request."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

import django  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

django.setup()
call_command("check")
response = Client().get("/health/", HTTP_HOST="localhost")
print("corpus: django", django.get_version(), "health", response.status_code, response.content.decode())
