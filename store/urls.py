from django.urls import URLPattern, URLResolver

app_name = "store"
urlpatterns: list[URLPattern | URLResolver] = []
