"""The hub's own pages under /accounts/; allauth's follow them in the root URLconf."""

from django.urls import path

from aidahub.web.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="accounts_profile"),
    path("undertaking/", views.undertaking_page, name="accounts_undertaking"),
]
