from django.urls import URLPattern, URLResolver, path

from bookings import api, group_views, views

app_name = "bookings"
urlpatterns: list[URLPattern | URLResolver] = [
    path("book/", views.event_type_list, name="event-types"),
    path("book/<slug:slug>/", views.event_type_detail, name="event-type"),
    path("book/<slug:slug>/hold/", views.hold, name="hold"),
    path("book/<slug:slug>/waitlist/", views.waitlist_join, name="waitlist"),
    path("bookings/calendar/<str:key>.ics", views.coach_feed, name="coach-feed"),
    path("bookings/<str:token>/", views.manage, name="manage"),
    path("bookings/<str:token>/details/", views.details, name="details"),
    path("bookings/<str:token>/confirmed/", views.confirmed, name="confirmed"),
    path("bookings/<str:token>/pay/", views.pay, name="pay"),
    path("bookings/<str:token>/reschedule/", views.reschedule, name="reschedule"),
    path("bookings/<str:token>/cancel/", views.cancel, name="cancel"),
    path("bookings/<str:token>/invite.ics", views.invite_file, name="invite"),
    path("workshops/", group_views.workshop_list, name="workshops"),
    path("workshops/<slug:slug>/", group_views.workshop_detail, name="workshop"),
    path("workshops/<slug:slug>/book/", group_views.seat_book, name="seat-book"),
    path("workshops/<slug:slug>/waitlist/", group_views.seat_waitlist, name="seat-waitlist"),
    path("workshops/seat/<str:token>/", group_views.seat_manage, name="seat"),
    path("workshops/seat/<str:token>/cancel/", group_views.seat_cancel, name="seat-cancel"),
    path("workshops/seat/<str:token>/move/", group_views.seat_move, name="seat-move"),
    path("workshops/seat/<str:token>/claim/", group_views.seat_claim, name="seat-claim"),
    path("workshops/seat/<str:token>/pay/", group_views.seat_pay, name="seat-pay"),
    path("api/slots/", api.slot_list, name="api-slots"),
    path("api/bookings/", api.booking_create, name="api-bookings"),
]
