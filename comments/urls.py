from django.urls import path

from comments import views

app_name = "comments"
urlpatterns = [
    path("guides/<slug:slug>/comments/", views.thread, name="thread"),
    path("comments/<int:pk>/moderate/", views.moderate, name="moderate"),
    path("comments/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
