from django.urls import path

from aidahub.web.register import views

app_name = "register"

urlpatterns = [
    path("", views.home, name="home"),
]
