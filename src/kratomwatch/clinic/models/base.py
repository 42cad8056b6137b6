import uuid

from django.db import models


class Record(models.Model):
    """Every stored record: a public UUID (the only id that appears in URLs) and timestamps."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
