from django.urls import URLPattern, URLResolver, include, path

from newsletter import views

app_name = "newsletter"
urlpatterns: list[URLPattern | URLResolver] = [
    path("newsletter/subscribe/", views.subscribe, name="subscribe"),
    path("newsletter/confirm/<str:token>/", views.confirm, name="confirm"),
    path("newsletter/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("newsletter/preferences/<str:token>/", views.preferences, name="preferences"),
    path("newsletter/c/<str:token>/", views.click, name="click"),
    path("newsletter/o/<str:token>/", views.open_pixel, name="open"),
    path("newsletter/archive/", views.archive, name="archive"),
    path("newsletter/archive/<slug:slug>/", views.archive_detail, name="archive-detail"),
    # django-anymail's tracking and inbound webhooks (bounces, complaints, mailto unsubscribes).
    path("newsletter/esp/", include("anymail.urls")),
]
