from django.urls import URLPattern, URLResolver, path

from clients import views

app_name = "clients"
urlpatterns: list[URLPattern | URLResolver] = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    path("portal/", views.portal, name="portal"),
    path("portal/notes/<int:pk>/", views.note, name="portal-note"),
    path("portal/packages/<int:pk>/", views.engagement, name="portal-engagement"),
]
