from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.store_cases, name="store"),
    path("<slug:slug>/import/", views.upload, name="import"),
    path("<slug:slug>/report/", views.report, name="report"),
    path("<slug:slug>/policy/", views.policy, name="policy"),
    path("<slug:slug>/report/cases.csv", views.cases_csv, name="cases_csv"),
    path("<slug:slug>/cases/<int:pk>/", views.case_detail, name="case"),
    path("<slug:slug>/reviews/", views.review_list, name="review_list"),
    path("<slug:slug>/reviews/<int:pk>/", views.review_detail, name="review"),
    path("<slug:slug>/open-missing-cases/", views.open_missing_cases, name="open_missing_cases"),
    path("<slug:slug>/products/<int:pk>/", views.product_reviews, name="product"),
    path("<slug:slug>/tasks/<int:pk>/done/", views.task_done, name="task_done"),
]
