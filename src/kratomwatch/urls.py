from django.contrib.auth import views as auth_views
from django.urls import include, path

from kratomwatch.api import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", api.urls),
    path("", include("kratomwatch.clinic.urls")),
]
