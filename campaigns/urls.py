from django.urls import path

from .views import activities, activity_templates, ad_alerts, ads, calendar, plans, playbooks, products, related
from .views import ad_launches as launch_views

app_name = "campaigns"
urlpatterns = [
    # --- activities, calendar, plans, playbooks --------------------------------------------
    # (url names here avoid the letters "ad": base.html marks the Paid promotion tab on them)
    path("activities/", activities.activities, name="activities"),
    path("activities/new/", activities.activity_new, name="activity_new"),
    path("activities/templates/", activity_templates.templates_list, name="activity_templates"),
    path("activities/templates/<int:pk>/", activity_templates.template_edit, name="activity_template_edit"),
    path("activities/templates/<int:pk>/delete/", activity_templates.template_delete,
         name="activity_template_delete"),
    path("activities/calendar/", calendar.calendar, name="calendar"),
    path("activities/related-sales/", related.related_sales, name="related_sales"),
    path("activities/related-sales/bundle/", related.related_sales_create, name="related_sales_bundle"),
    path("activities/<int:pk>/", activities.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", activities.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/save-as-template/", activity_templates.activity_save_template,
         name="activity_save_template"),
    path("activities/<int:pk>/move/", calendar.activity_move, name="activity_move"),
    path("activities/<int:pk>/series/", activities.series_change, name="series_change"),
    path("activities/<int:pk>/series/delete-future/", activities.series_delete_future, name="series_delete_future"),
    path("activities/<int:pk>/status/", activities.activity_status, name="activity_status"),
    path("activities/<int:pk>/checklist/", activities.checklist_new, name="checklist_new"),
    path("activities/<int:pk>/checklist/<int:item_pk>/", activities.checklist_toggle, name="checklist_toggle"),
    path("activities/<int:pk>/checklist/<int:item_pk>/remove/", activities.checklist_remove,
         name="checklist_remove"),
    path("activities/<int:pk>/lottery/", activities.lottery_draw, name="lottery_draw"),
    path("activities/<int:pk>/review/", activities.activity_review_page, name="activity_review"),
    path("plans/", plans.plans, name="plans"),
    path("plans/new/", plans.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/tasks/<int:task_pk>/", plans.plan_task_toggle, name="plan_task_toggle"),
    path("playbooks/", playbooks.playbooks, name="playbooks"),
    path("playbooks/<slug:slug>/", playbooks.playbook, name="playbook"),
    path("products/search/", products.product_search, name="product_search"),
    # --- paid promotion: ad plans, creatives, spend, launches -------------------------------
    path("ads/", ads.ads, name="ads"),
    path("ads/new/", ads.ad_new, name="ad_new"),
    path("ads/import/", ads.ad_import, name="ad_import"),
    path("ads/alerts/opt-out/<str:token>/", ad_alerts.ad_alert_opt_out, name="ad_alert_opt_out"),
    path("ads/<int:pk>/", ads.ad_detail, name="ad_detail"),
    path("ads/<int:pk>/edit/", ads.ad_edit, name="ad_edit"),
    path("ads/<int:pk>/creatives/new/", ads.ad_creative_new, name="ad_creative_new"),
    path("ads/creatives/<int:pk>/", ads.ad_creative_edit, name="ad_creative_edit"),
    path("ads/creatives/<int:pk>/image", ads.ad_creative_image, name="ad_creative_image"),
    path("ads/creatives/<int:pk>/thumbnail", ads.ad_creative_thumbnail, name="ad_creative_thumbnail"),
    path("ads/launches/", launch_views.launches, name="ad_launches"),
    path("ads/launches/new/", launch_views.launch_new, name="ad_launch_new"),
    path("ads/launches/<int:pk>/", launch_views.launch_detail, name="ad_launch_detail"),
    path("ads/launches/<int:pk>/edit/", launch_views.launch_edit, name="ad_launch_edit"),
    path("ads/launches/<int:pk>/checklist/<int:item>/", launch_views.launch_check, name="ad_launch_check"),
    # --- end ------------------------------------------------------------------------------
]
