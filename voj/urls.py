from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from streaming import views as streaming_views
from voj import auth, errors, health

api_v1: list[URLPattern | URLResolver] = [
    path("auth/login", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", auth.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me", auth.MeApi.as_view(), name="auth-me"),
    path("health", health.HealthApi.as_view(), name="health"),
    path("health/detailed", health.DetailedHealthApi.as_view(), name="health-detailed"),
    path("uploads", streaming_views.upload_receive, name="upload-receive"),
    path("", include("books.urls")),
    path("", include("listening.urls")),
]

if settings.VOJ_API_DOCS:
    from csp.decorators import csp_update
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

    import voj.schema  # noqa: F401  (registers what drf-spectacular cannot infer)

    # Swagger UI's files come from its CDN (drf-spectacular's default), its page has a <style>
    # block and the UI sets style attributes; its start-up script is a file of its own (the
    # split view), so no script runs inline.
    swagger_cdn = "https://cdn.jsdelivr.net"
    docs = csp_update(
        {
            "script-src": [swagger_cdn],
            "style-src": [swagger_cdn, "'unsafe-inline'"],
            "img-src": [swagger_cdn],
        }
    )(SpectacularSwaggerSplitView.as_view(url_name="schema"))
    api_v1 += [
        path("schema", SpectacularAPIView.as_view(), name="schema"),
        path("docs", docs, name="docs"),
    ]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("listen/", include("listening.page_urls")),
    path("stream/<path:key>", streaming_views.stream, name="stream"),
    path("covers/<path:key>", streaming_views.cover, name="cover"),
    re_path(r"^(api|stream|covers)/", errors.api_not_found),
]

handler404 = "voj.errors.handler404"
handler500 = "voj.errors.handler500"
handler400 = "voj.errors.handler400"
handler403 = "voj.errors.handler403"
