"""Print a user's REST API token, bare, so scripts can capture it.

``drf_create_token`` (from DRF) does the same in a sentence; this one prints only the key:
``TOKEN=$(python manage.py api_token alice)``.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the REST API token of a user (created if the user has none)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true", help="Replace the user's token with a new one.")

    def handle(self, *args, username, reset, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}. Create one in the admin or with createsuperuser.") from exc
        if reset:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
