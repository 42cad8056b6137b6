from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "kratomwatch.clinic"
    label = "clinic"
    verbose_name = "KratomWatch clinic"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kratomwatch.clinic import signals

        signals.connect()
