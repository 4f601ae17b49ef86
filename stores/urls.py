from django.urls import path

from . import views

app_name = "stores"
urlpatterns = [
    path("", views.store_list, name="list"),
    path("settings/", views.my_settings, name="my_settings"),
    path("<slug:slug>/", views.store_detail, name="detail"),
    path("<slug:slug>/products/<int:pk>/", views.product_detail, name="product"),
    path("<slug:slug>/products/<int:pk>/versions/<int:version_pk>/picture", views.listing_picture,
         name="listing_picture"),
    path("<slug:slug>/products/<int:pk>/versions/<int:version_pk>/thumbnail", views.listing_thumbnail,
         name="listing_thumbnail"),
    path("<slug:slug>/orders/", views.order_list, name="orders"),
    path("<slug:slug>/orders/<int:pk>/", views.order_detail, name="order"),
    path("<slug:slug>/violations/", views.violation_list, name="violations"),
    path("<slug:slug>/violations/<int:pk>/status/", views.violation_status, name="violation_status"),
    path("<slug:slug>/import/", views.import_csv, name="import"),
    path("<slug:slug>/import/<int:pk>/", views.import_job, name="import_job"),
]
