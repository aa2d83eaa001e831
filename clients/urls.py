from django.urls import URLPattern, URLResolver, path

from clients import privacy_views, views

app_name = "clients"
urlpatterns: list[URLPattern | URLResolver] = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    path("portal/", views.portal, name="portal"),
    path("portal/notes/<int:pk>/", views.note, name="portal-note"),
    path("portal/packages/<int:pk>/", views.engagement, name="portal-engagement"),
    path("portal/privacy/", privacy_views.portal_privacy, name="portal-privacy"),
    path("portal/privacy/export/", privacy_views.portal_export, name="portal-privacy-export"),
    path("portal/privacy/erase/", privacy_views.portal_erase_request, name="portal-privacy-erase"),
    path("results/", views.results_page, name="results"),
    path("results/testimonial/<str:token>/", views.testimonial_form, name="testimonial"),
    path("privacy/", privacy_views.policy, name="privacy"),
    path("privacy/erase/<str:token>/", privacy_views.erase_confirm, name="privacy-erase-confirm"),
]
