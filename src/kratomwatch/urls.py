from django.contrib.auth import views as auth_views
from django.urls import include, path

from kratomwatch.api import api
from kratomwatch.clinic import two_factor

urlpatterns = [
    path("login/", two_factor.LoginView.as_view(), name="login"),
    path("login/code/", two_factor.two_factor, name="two_factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", api.urls),
    path("", include("kratomwatch.clinic.urls")),
]
