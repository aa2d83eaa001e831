from django.urls import path

from guides import api, feeds, views

app_name = "guides"
urlpatterns = [
    path("guides/", views.hub, name="hub"),
    path("guides/<slug:slug>/", views.detail, name="detail"),
    path("guides/<slug:slug>/cover-<slug:digest>.svg", views.cover, name="cover"),
    path("guides/<slug:slug>/viewed/", views.record_view, name="record-view"),
    path("search/", views.search, name="search"),
    path("feeds/guides/", feeds.GuidesRssFeed(), name="feed-rss"),
    path("feeds/guides/atom/", feeds.GuidesAtomFeed(), name="feed-atom"),
    path("feeds/guides/<slug:category>/", feeds.CategoryRssFeed(), name="feed-category"),
    path(
        "feeds/guides/<slug:category>/atom/",
        feeds.CategoryAtomFeed(),
        name="feed-category-atom",
    ),
    path("api/guides/search/", api.search, name="api-search"),
]
