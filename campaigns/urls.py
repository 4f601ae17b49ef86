from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("activities/", views.activities, name="activities"),
    path("ads/", views.ads, name="ads"),
]
