"""The audit trail's staff pages, under /staff/audit/."""

from django.urls import path

from aidahub.web.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="log"),
    path("export.csv", views.event_export, name="export"),
    path("irregularities/", views.irregularities, name="irregularities"),
    path("<int:pk>/", views.event_detail, name="event"),
]
