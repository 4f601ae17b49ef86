from django.urls import path

from .views import activities, ads
from .views import ad_launches as launch_views

app_name = "campaigns"
urlpatterns = [
    # --- activities, calendar, plans, playbooks --------------------------------------------
    path("activities/", activities.activities, name="activities"),
    # --- paid promotion: ad plans, creatives, spend, launches -------------------------------
    path("ads/", ads.ads, name="ads"),
    path("ads/new/", ads.ad_new, name="ad_new"),
    path("ads/import/", ads.ad_import, name="ad_import"),
    path("ads/<int:pk>/", ads.ad_detail, name="ad_detail"),
    path("ads/<int:pk>/edit/", ads.ad_edit, name="ad_edit"),
    path("ads/<int:pk>/creatives/new/", ads.ad_creative_new, name="ad_creative_new"),
    path("ads/creatives/<int:pk>/", ads.ad_creative_edit, name="ad_creative_edit"),
    path("ads/creatives/<int:pk>/image", ads.ad_creative_image, name="ad_creative_image"),
    path("ads/launches/", launch_views.launches, name="ad_launches"),
    path("ads/launches/new/", launch_views.launch_new, name="ad_launch_new"),
    path("ads/launches/<int:pk>/", launch_views.launch_detail, name="ad_launch_detail"),
    path("ads/launches/<int:pk>/edit/", launch_views.launch_edit, name="ad_launch_edit"),
    path("ads/launches/<int:pk>/checklist/<int:item>/", launch_views.launch_check, name="ad_launch_check"),
    # --- end ------------------------------------------------------------------------------
]
