from django.urls import path

from .views import daily, live

app_name = "metrics"
urlpatterns = [
    # --- real-time: live view, listings ------------------------------------------------------
    path("live/", live.live, name="live"),
    path("<slug:slug>/live/", live.store_live, name="store_live"),
    path("<slug:slug>/live.json", live.store_live_json, name="store_live_json"),
    # --- daily tracking: rollups, anomalies, plans, morning email ---------------------------
    path("daily/", daily.daily, name="daily"),
    # --- end ------------------------------------------------------------------------------
]
