"""Membership pages and the members' area."""

from django.urls import path

from aidahub.web.organizations import views

app_name = "organizations"

urlpatterns = [
    path("membership/", views.membership, name="membership"),
    path("membership/organization/", views.name_organization, name="organization"),
    path("membership/network-partner/", views.network_partner, name="network-partner"),
    path(
        "membership/network-partner/<int:pk>/withdraw/",
        views.withdraw_application,
        name="withdraw-application",
    ),
    path("consortium/", views.consortium, name="consortium"),
]
