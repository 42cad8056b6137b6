from django.urls import include, path

from kratomwatch.api import api
from kratomwatch.clinic import two_factor
from kratomwatch.clinic.views import account as views_account

urlpatterns = [
    path("login/", two_factor.LoginView.as_view(), name="login"),
    path("login/code/", two_factor.two_factor, name="two_factor"),
    path("password-reset/", views_account.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views_account.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views_account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("logout/", views_account.LogoutView.as_view(), name="logout"),
    path("api/", api.urls),
    path("", include("kratomwatch.clinic.urls")),
]
