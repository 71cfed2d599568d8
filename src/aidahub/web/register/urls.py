"""The register's addresses. Landing pages live at /<DOI>, so that route comes last."""

from django.urls import path, re_path

from aidahub.web.register import api, oai, views

app_name = "register"

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/", views.dataset_list, name="list"),
    path("metrics/", views.metrics, name="metrics"),
    path("priorities/", views.priorities, name="priorities"),
    path("priorities/new/", views.priorities_new, name="priorities-new"),
    path("api/", views.api_docs, name="api"),
    path("api/1.0/metadata.json", api.metadata, name="api-metadata"),
    path("oai", oai.endpoint, name="oai"),
    path("robots.txt", views.robots, name="robots"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    re_path(r"^api/1\.0/datasets/(?P<doi>.+)\.json$", api.dataset, name="api-dataset"),
    re_path(
        r"^(?P<doi>10\.\d{4,9}(?:\.\d+)*/.+)/export/(?P<fmt>[a-z-]+)$",
        views.export,
        name="export",
    ),
    # Any path that starts like a DOI; the view refuses what is not one with a readable 404.
    re_path(r"^(?P<doi>10\.\d{4,9}(?:\.\d+)*/.+)$", views.landing, name="landing"),
]
