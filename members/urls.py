from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.index, name="index"),
    path("members.csv", views.index_csv, name="index_csv"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/conversation/", views.conversation, name="conversation"),
    path("<int:pk>/opt-out/", views.opt_out, name="opt_out"),
    path("texts/", views.texts, name="texts"),
    path("templates/", views.templates, name="templates"),
    path("templates/<slug:slug>/new/", views.template_edit, name="template_new"),
    path("templates/<slug:slug>/<int:pk>/", views.template_edit, name="template_edit"),
    path("campaign/<int:pk>/", views.campaign, name="campaign"),
    path("campaign/<int:pk>/redeeming-orders.csv", views.campaign_orders_csv, name="campaign_orders_csv"),
    path("tiers/<slug:slug>/", views.tiers, name="tiers"),
    path("answers/<slug:slug>/", views.saved_answers, name="saved_answers"),
    path("answers/<slug:slug>/<int:pk>/", views.saved_answer_edit, name="saved_answer_edit"),
    path("answers/<slug:slug>/<int:pk>/delete/", views.saved_answer_delete, name="saved_answer_delete"),
]
