from django.contrib import admin
from unfold.admin import ModelAdmin

from guides.models import Category, Guide, Role


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Role)
class RoleAdmin(ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Guide)
class GuideAdmin(ModelAdmin):
    list_display = [
        "title",
        "category",
        "kind",
        "visibility",
        "status",
        "published_at",
        "view_count",
    ]
    list_filter = ["status", "visibility", "kind", "category"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["roles"]
