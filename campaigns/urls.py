from django.urls import path

from .views import activities, ads

app_name = "campaigns"
urlpatterns = [
    # --- activities, calendar, plans, playbooks --------------------------------------------
    path("activities/", activities.activities, name="activities"),
    # --- paid promotion: ad plans, creatives, spend, launches -------------------------------
    path("ads/", ads.ads, name="ads"),
    # --- end ------------------------------------------------------------------------------
]
