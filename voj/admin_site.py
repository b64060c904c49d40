"""The operator console: Django admin plus views over the repository and the CDN.

The catalogue is not in ORM models in production, so its pages are admin views (the admin's
own site, templates, breadcrumbs and messages), not ModelAdmins.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import path, reverse


class VojAdminSite(admin.AdminSite):
    site_header = "voj operator console"
    site_title = "voj"
    index_title = "Operations"
    site_url = None  # the service has no public site at "/"

    def get_urls(self) -> list:
        from books import admin_views as catalogue
        from books import cdn_admin_views as cdn

        def view(function: Any) -> Any:
            return self.admin_view(function)

        return [
            path("catalogue/books/", view(catalogue.book_list), name="catalogue-books"),
            path(
                "catalogue/books/<str:book_id>/", view(catalogue.book_detail), name="catalogue-book"
            ),
            path(
                "catalogue/books/<str:book_id>/check/",
                view(catalogue.book_check),
                name="catalogue-book-check",
            ),
            path(
                "catalogue/books/<str:book_id>/delete/",
                view(catalogue.book_delete),
                name="catalogue-book-delete",
            ),
            path("catalogue/chapters/", view(catalogue.chapter_list), name="catalogue-chapters"),
            path(
                "catalogue/chapters/<str:chapter_id>/",
                view(catalogue.chapter_detail),
                name="catalogue-chapter",
            ),
            path(
                "catalogue/chapters/<str:chapter_id>/check/",
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
