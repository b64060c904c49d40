"""The operator console: Django admin plus views over the repository and the CDN.

The catalogue is not in ORM models in production, so its pages are admin views (the admin's
own site, templates, breadcrumbs and messages), not ModelAdmins.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse

from books import admin_views as catalogue
from books import cdn_admin_views as cdn
from books import converters  # noqa: F401 (registers <id:...>)
from voj.security.throttle import LoginThrottled


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The console's sign-in form; over the login limit it says so, and when to try again."""

    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except LoginThrottled as throttled:
            self.retry_after = int(throttled.wait or 1)
            minutes = max(1, -(-self.retry_after // 60))
            raise ValidationError(
                "Too many failed sign-ins for this account or from this address. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                code="throttled",
            ) from None


class VojAdminSite(admin.AdminSite):
    site_header = "voj operator console"
    site_title = "voj"
    index_title = "Operations"
    site_url = None  # the service has no public site at "/"
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Over the login limit the form is shown again with its error, as 429 with
        Retry-After, like the API's login."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

    def get_urls(self) -> list:
        def view(function: Any) -> Any:
            return self.admin_view(function)

        return [
            path("catalogue/books/", view(catalogue.book_list), name="catalogue-books"),
            path(
                "catalogue/books/<id:book_id>/", view(catalogue.book_detail), name="catalogue-book"
            ),
            path(
                "catalogue/books/<id:book_id>/check/",
                view(catalogue.book_check),
                name="catalogue-book-check",
            ),
            path(
                "catalogue/books/<id:book_id>/publish/",
                view(catalogue.book_publish),
                name="catalogue-book-publish",
            ),
            path(
                "catalogue/books/<id:book_id>/unpublish/",
                view(catalogue.book_unpublish),
                name="catalogue-book-unpublish",
            ),
            path(
                "catalogue/books/<id:book_id>/delete/",
                view(catalogue.book_delete),
                name="catalogue-book-delete",
            ),
            path("catalogue/chapters/", view(catalogue.chapter_list), name="catalogue-chapters"),
            path(
                "catalogue/chapters/<id:chapter_id>/",
                view(catalogue.chapter_detail),
                name="catalogue-chapter",
            ),
            path(
                "catalogue/chapters/<id:chapter_id>/check/",
                view(catalogue.chapter_check),
                name="catalogue-chapter-check",
            ),
            path("cdn/", view(cdn.invalidation_history), name="cdn-invalidations"),
            path("cdn/new/", view(cdn.invalidation_new), name="cdn-invalidation-new"),
            path(
                "cdn/<str:invalidation_id>/", view(cdn.invalidation_detail), name="cdn-invalidation"
            ),
            *super().get_urls(),
        ]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps

        def entry(name: str, url_name: str, object_name: str) -> dict:
            return {
                "name": name,
                "object_name": object_name,
                "admin_url": reverse(f"admin:{url_name}"),
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            }

        operations = [
            {
                "name": "Catalogue",
                "app_label": "catalogue",
                "app_url": reverse("admin:catalogue-books"),
                "has_module_perms": True,
                "models": [
                    entry("Books", "catalogue-books", "Book"),
                    entry("Chapters by status", "catalogue-chapters", "Chapter"),
                ],
            },
            {
                "name": "CDN",
                "app_label": "cdn",
                "app_url": reverse("admin:cdn-invalidations"),
                "has_module_perms": True,
                "models": [entry("CloudFront invalidations", "cdn-invalidations", "Invalidation")],
            },
        ]
        return operations + apps
