from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

admin.site.site_header = settings.HUB_NAME + " administration"
admin.site.site_title = settings.HUB_NAME
# Staff sign in to the admin through allauth, so two-factor authentication applies there too.
admin.site.login = secure_admin_login(admin.site.login)

handler400 = "aidahub.web.core.views.bad_request"
handler403 = "aidahub.web.core.views.permission_denied"
handler404 = "aidahub.web.core.views.page_not_found"
handler500 = "aidahub.web.core.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("aidahub.web.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # Only the register's sample images are public; ethics documents and other uploads live
    # elsewhere under MEDIA_ROOT and are never served from here.
    path("media/register/<path:path>", serve, {"document_root": settings.MEDIA_ROOT / "register"}),
    # Image paths of records imported from the legacy register (/assets/images/<DOI>/...):
    # copy the legacy site's assets/images folder to MEDIA_ROOT/register/assets/images.
    path(
        "assets/images/<path:path>",
        serve,
        {"document_root": settings.MEDIA_ROOT / "register" / "assets" / "images"},
    ),
    path("staff/audit/", include("aidahub.web.audit.urls")),
    path("", include("aidahub.web.organizations.urls")),
    path("", include("aidahub.web.register.urls")),
]
