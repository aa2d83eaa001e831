from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from newsletter import views, webhooks

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
    # The configured ESP's tracking and inbound webhooks (bounces, complaints, mailto
    # unsubscribes), behind its secret; other providers' routes are not mounted.
    path(
        "newsletter/esp/",
        include((webhooks.esp_urlpatterns(settings.NEWSLETTER_ESP), "anymail")),
    ),
]
