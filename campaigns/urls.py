from django.urls import path

from .views import activities, ad_launches, ads

app_name = "campaigns"
urlpatterns = [
    # --- activities, calendar, plans, playbooks --------------------------------------------
    path("activities/", activities.activities, name="activities"),
    # --- paid promotion: ad plans, creatives, spend, launches (helper i6) -------------------
    path("ads/", ads.ads, name="ads"),
    path("ads/new/", ads.ad_new, name="ad_new"),
    path("ads/import/", ads.ad_import, name="ad_import"),
    path("ads/<int:pk>/", ads.ad_detail, name="ad_detail"),
    path("ads/<int:pk>/edit/", ads.ad_edit, name="ad_edit"),
    path("ads/<int:pk>/creatives/new/", ads.ad_creative_new, name="ad_creative_new"),
    path("ads/creatives/<int:pk>/", ads.ad_creative_edit, name="ad_creative_edit"),
    path("ads/launches/", ad_launches.launches, name="ad_launches"),
    path("ads/launches/new/", ad_launches.launch_new, name="ad_launch_new"),
    path("ads/launches/<int:pk>/", ad_launches.launch_detail, name="ad_launch_detail"),
    path("ads/launches/<int:pk>/edit/", ad_launches.launch_edit, name="ad_launch_edit"),
    path("ads/launches/<int:pk>/checklist/<int:item>/", ad_launches.launch_check, name="ad_launch_check"),
    # --- end ------------------------------------------------------------------------------
]
