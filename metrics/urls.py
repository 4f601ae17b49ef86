from django.urls import path

from . import views

app_name = "metrics"
urlpatterns = [
    path("live/", views.live, name="live"),
    path("daily/", views.daily, name="daily"),
]
