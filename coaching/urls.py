from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coaching import accounts, views
from coaching import sitemaps as site_sitemaps
from guides import sitemaps as guide_sitemaps

# The admin signs in through allauth, so throttling and MFA apply to it too.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]

handler500 = "coaching.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("coaching/", views.coaching_offers, name="coaching-offers"),
    path("coaching/<slug:slug>/", views.coaching_offer, name="coaching-offer"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": guide_sitemaps.SITEMAPS | site_sitemaps.SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", views.robots, name="robots"),
    path("admin/", admin.site.urls),
    # Before allauth's own: asking again for a code sends a fresh one, and the
    # pages a stranger can post to are counted in PostgreSQL (coaching/accounts.py).
    path("accounts/login/", accounts.login, name="account_login"),
    path("accounts/signup/", accounts.signup, name="account_signup"),
    path("accounts/password/reset/", accounts.reset_password, name="account_reset_password"),
    path(
        "accounts/login/code/",
        accounts.request_login_code,
        name="account_request_login_code",
    ),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("guides.urls")),
    path("", include("store.urls")),
    path("", include("bookings.urls")),
    path("", include("newsletter.urls")),
    path("", include("clients.urls")),
    path("", include("comments.urls")),
    path("", include("members.urls")),
]

if settings.SERVE_MEDIA:
    # Public uploads only; behind a proxy, let it serve PUBLIC_MEDIA_ROOT instead.
    from django.views.static import serve

    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.PUBLIC_MEDIA_ROOT},
        )
    ]

# Last: the coach's own pages take any one-segment address nothing above answers
# (Page.clean refuses a slug that a view above already owns).
urlpatterns += [path("<slug:slug>/", views.page, name="page")]
