from django.urls import path

from .views import daily, live

app_name = "metrics"
urlpatterns = [
    # --- real-time: live view, listings ------------------------------------------------------
    path("live/", live.live, name="live"),
    # --- daily tracking: rollups, anomalies, plans, morning email ---------------------------
    path("daily/", daily.daily, name="daily"),
    # --- end ------------------------------------------------------------------------------
]
