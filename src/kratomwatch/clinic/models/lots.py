"""Product lots and their laboratory certificates.

A certificate's bytes are stored in the database (not on a disk of one app server), so the
servers keep no state and a database backup holds the certificate too. Its type is what its
first bytes show (:mod:`kratomwatch.clinic.uploads`), never what the browser claimed.
"""

from django.db import models
from django.utils.translation import gettext_lazy

from .base import Record
from .people import User
from .records import Product


class FigureUnit(models.TextChoices):
    MG_PER_G = "mg/g", gettext_lazy("mg per g")  # of product material
    PERCENT = "%", "% w/w"


class Certificate(Record):
    content = models.BinaryField()
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=120)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class ProductLot(Record):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="lots")
    lot_number = models.CharField(max_length=100)
    purchased_on = models.DateField(null=True, blank=True)
    lab_name = models.CharField(max_length=200, blank=True)
    tested_on = models.DateField(null=True, blank=True)
    # Stored in mg per gram of product material whatever unit the certificate used; the unit
    # it was entered in is kept so that it is shown back the same way.
    mitragynine_mg_per_g = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    hydroxymitragynine_mg_per_g = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    total_alkaloids_mg_per_g = models.DecimalField(
        max_digits=9, decimal_places=4, null=True, blank=True
    )
    entered_unit = models.CharField(
        max_length=4, choices=FigureUnit.choices, default=FigureUnit.MG_PER_G
    )
    certificate = models.OneToOneField(
        Certificate, on_delete=models.SET_NULL, null=True, blank=True, related_name="lot"
    )
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    idempotency_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created"]  # the latest lot first
        constraints = [
            models.UniqueConstraint(
                fields=["product", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="unique_lot_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return self.lot_number
