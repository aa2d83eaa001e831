from django.urls import path

from guides import views

app_name = "guides"
urlpatterns = [
    path("guides/", views.hub, name="hub"),
    path("guides/<slug:slug>/", views.detail, name="detail"),
]
