from django.urls import URLPattern, URLResolver, path

from members import views

app_name = "members"
urlpatterns: list[URLPattern | URLResolver] = [
    path("pricing/", views.pricing, name="pricing"),
    path("account/membership/", views.account, name="account"),
    path("account/membership/subscribe/", views.subscribe, name="subscribe"),
    path("account/membership/change/", views.change, name="change"),
    path("account/membership/cancel/", views.cancel, name="cancel"),
    path("account/membership/resume/", views.resume, name="resume"),
    path("account/membership/card/", views.card, name="card"),
    path("account/membership/card/simulated/", views.simulated_portal, name="simulated-portal"),
    path(
        "account/membership/checkout/simulated/<str:token>/",
        views.simulated_checkout,
        name="simulated-checkout",
    ),
]
