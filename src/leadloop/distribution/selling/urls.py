"""The lead market's pages, under /selling/."""

from django.urls import path

from leadloop.distribution.selling import views

app_name = "selling"

urlpatterns = [
    path("", views.buyers_page, name="buyers"),
    path("buyers/new/", views.buyer_edit, name="buyer-new"),
    path("buyers/<int:buyer_id>/", views.buyer_page, name="buyer"),
    path("buyers/<int:buyer_id>/edit/", views.buyer_edit, name="buyer-edit"),
    path("buyers/<int:buyer_id>/top-up/", views.buyer_top_up, name="buyer-top-up"),
    path("buyers/<int:buyer_id>/test/", views.buyer_test, name="buyer-test"),
    path("buyers/<int:buyer_id>/secret/", views.buyer_secret, name="buyer-secret"),
    path("buyers/<int:buyer_id>/logins/", views.buyer_login, name="buyer-login"),
    path("buyers/<int:buyer_id>/sftp/", views.buyer_sftp, name="buyer-sftp"),
    path("buyers/<int:buyer_id>/statement/", views.statement_page, name="statement"),
    path("sales/", views.sales_page, name="sales"),
    path("sales/<int:sale_id>/redeliver/", views.sale_redeliver, name="redeliver"),
    path("auctions/<int:auction_id>/", views.auction_page, name="auction"),
    path("returns/", views.returns_page, name="returns"),
    path("returns/<int:return_id>/decide/", views.return_decide, name="return-decide"),
    path("portal/", views.portal_page, name="portal"),
    path("portal/sales/<int:sale_id>/return/", views.portal_return, name="portal-return"),
]
