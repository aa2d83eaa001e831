from __future__ import annotations

from typing import Any

import factory
from django.core.files.base import ContentFile

from store import pdf
from store.models import Coupon, FileVersion, Price, Product, ProductFile


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    kind = Product.Kind.DOWNLOAD
    slug = factory.Sequence(lambda n: f"product-{n}")
    title = factory.Sequence(lambda n: f"Product {n}")
    summary = "A useful thing."
    refund_window_days = 14

    @factory.post_generation
    def price(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            Price.objects.create(product=self, amount=extracted or 2900, currency="gbp")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    percent_off = 20


def add_pdf(product: Product, *, label: str = "v1", notes: str = "") -> FileVersion:
    product_file, _ = ProductFile.objects.get_or_create(product=product, title="Study guide")
    content = pdf.study_guide("Study guide", [("One", "First page."), ("Two", "Second page.")])
    version = FileVersion(product_file=product_file, label=label, notes=notes, filename="guide.pdf")
    version.file.save("guide.pdf", ContentFile(content), save=False)
    version.save()
    return version
