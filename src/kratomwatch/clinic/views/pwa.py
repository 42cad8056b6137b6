"""The patient app as an installable web app: its manifest, its service worker, and the two
pages it keeps on the phone for when there is no connection (urgent guidance, offline).

The service worker keeps the site's styles and scripts, the urgent-guidance page and the
offline page on the phone when it installs; the patient's own pages (home, check-in, plan)
are kept as last seen online, and shown from the phone when the network is gone. Logging out
clears what the browser kept (``Clear-Site-Data``), so that the next person on a shared phone
sees none of it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from kratomwatch.domain.safety import load_knowledge

#: The patient's pages kept on the phone as last seen online (URL names).
OFFLINE_PAGES = ("patient_home", "checkin", "my_plan")
#: Static files kept on the phone when the service worker installs.
STATIC_FILES = (
    "kratomwatch/site.css",
    "kratomwatch/forms.js",
    "kratomwatch/checkin.js",
    "kratomwatch/queue.js",
    "kratomwatch/pwa.js",
    "kratomwatch/htmx.min.js",
    "kratomwatch/icons/icon-192.png",
)


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: what the phone needs to install the patient app."""
    icons = [
        {"src": static("kratomwatch/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("kratomwatch/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("kratomwatch/icons/icon-512-maskable.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    data = {
        "name": "KratomWatch",
        "short_name": "KratomWatch",
        "description": "Your daily check-in, doses and plan, with your care team.",
        "id": reverse("patient_home"),
        "start_url": reverse("patient_home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#112233",
        "icons": icons,
    }
    return JsonResponse(data, content_type="application/manifest+json")


@cache
def _worker_source() -> str:
    precache = [
        reverse("offline"),
        reverse("urgent_guidance"),
        *(static(name) for name in STATIC_FILES),
    ]
    pages = [reverse(name) for name in OFFLINE_PAGES]
    config = {
        "precache": precache,
        "pages": pages,
        "offline": reverse("offline"),
        "queue": static("kratomwatch/queue.js"),
    }
    body = render_to_string("pwa/sw.js", {"config": json.dumps(config)})
    # A new release (other files, other pages) is a new worker, which replaces what it kept.
    version = hashlib.sha256(body.encode()).hexdigest()[:12]
    return body.replace("__VERSION__", version)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the site's root so that it may serve every page."""
    response = HttpResponse(_worker_source(), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker for a page that was not kept on the phone."""
    return render(request, "pwa/offline.html")


@require_GET
def urgent_guidance(request: HttpRequest) -> HttpResponse:
    """Public and kept on the phone: what to do about each red-flag symptom, in the words of
    the knowledge base's red-flag rules."""
    kb = load_knowledge()
    guidance = [
        (rule.title, rule.patient_message)
        for rule in kb.rules
        if rule.category == "red_flag" and rule.patient_message
    ]
    return render(request, "pwa/urgent.html", {"guidance": guidance})
