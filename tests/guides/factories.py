from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from guides.models import Category, Guide, Role


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Role {n}")
    slug = factory.Sequence(lambda n: f"role-{n}")


PUBLIC_PART = "## 1. Opening\n\nThe opening paragraph anyone may read about careers.\n\n"
PAID_PART = "## 2. The secret part\n\nZebracorn negotiation playbook only buyers may read.\n"


class GuideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guide

    title = factory.Sequence(lambda n: f"Guide number {n}")
    slug = factory.Sequence(lambda n: f"guide-{n}")
    summary = "A guide for the tests."
    body = PUBLIC_PART + "<!-- more -->\n\n" + PAID_PART
    category = factory.SubFactory(CategoryFactory)
    status = Guide.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    visibility = Guide.Visibility.PUBLIC
