from django.urls import path

from .views import daily, live, peers

app_name = "metrics"
urlpatterns = [
    # --- real-time: live view, listings ------------------------------------------------------
    path("live/", live.live, name="live"),
    path("<slug:slug>/live/", live.store_live, name="store_live"),
    path("<slug:slug>/live.json", live.store_live_json, name="store_live_json"),
    # --- daily tracking: rollups, anomalies, plans, morning email ---------------------------
    path("daily/", daily.daily, name="daily"),
    path("email/opt-out/<str:token>/", daily.email_opt_out, name="email_opt_out"),
    path("daily/anomalies/", daily.anomaly_list, name="anomalies"),
    path("daily/<slug:slug>/violations/new/", daily.violation_entry, name="violation_entry"),
    path("daily/anomalies/<int:pk>/", daily.anomaly_detail, name="anomaly"),
    # After daily/anomalies/: a store's slug is never read as that page's.
    path("daily/<slug:slug>/", daily.store_daily, name="store_daily"),
    path("daily/<slug:slug>/peers/", peers.peer_benchmarks, name="peer_benchmarks"),
    path("daily/<slug:slug>/email/", daily.morning_email, name="morning_email"),
    # --- end ------------------------------------------------------------------------------
]
