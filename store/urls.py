from django.urls import URLPattern, URLResolver, path

from store import views

app_name = "store"
urlpatterns: list[URLPattern | URLResolver] = [
    path("store/", views.product_list, name="list"),
    path("store/checkout/success/", views.checkout_success, name="checkout-success"),
    path(
        "store/checkout/simulated/<str:session_id>/",
        views.simulated_checkout,
        name="simulated-checkout",
    ),
    path(
        "store/orders/<str:number>/files/<int:file_pk>/",
        views.guest_download,
        name="guest-download",
    ),
    path("store/files/<str:token>/", views.signed_file, name="signed-file"),
    path("store/<slug:slug>/", views.product_detail, name="product"),
    path("store/<slug:slug>/cover-<slug:digest>.svg", views.cover, name="cover"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
    path("library/", views.library, name="library"),
    path("library/items/<int:pk>/", views.library_item, name="library-item"),
    path("library/files/<int:file_pk>/status/", views.file_status, name="file-status"),
    path("library/files/<int:file_pk>/download/", views.download, name="download"),
    path("library/files/<int:file_pk>/retry/", views.stamp_retry, name="stamp-retry"),
    path("library/orders/<str:number>/", views.order_detail, name="order"),
    path("library/orders/<str:number>/invoice/", views.invoice_page, name="invoice-page"),
    path("library/orders/<str:number>/invoice.pdf", views.invoice, name="invoice"),
    path(
        "library/orders/<str:number>/credit-notes/<int:pk>/",
        views.credit_note_page,
        name="credit-note",
    ),
    path(
        "library/orders/<str:number>/credit-notes/<int:pk>.pdf",
        views.credit_note_pdf,
        name="credit-note-pdf",
    ),
    path("library/orders/<str:number>/refund/", views.refund_request, name="refund-request"),
    path(
        "library/orders/<str:number>/instalments/<int:instalment_number>/pay/",
        views.instalment_pay,
        name="instalment-pay",
    ),
]
