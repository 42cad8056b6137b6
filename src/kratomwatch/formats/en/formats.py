"""One way to write dates on every page: "20 Nov 2026", "20 Nov 2026, 14:05" (Django's
locale formats would otherwise win over the settings and print "Nov. 20, 2026")."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
