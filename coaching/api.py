"""Shared API pieces: every error is a JSON body with a readable `error` message."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """The body of every API error (documented in the schema by each view)."""

    error = serializers.CharField(help_text="What was wrong, in a sentence.")
    # The serializer's metaclass moves declared fields out of the class, so this
    # does not shadow Serializer.fields at run time; mypy cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="Messages per field or query parameter (lists, or nested per sub-field).",
    )


class ThrottledSerializer(serializers.Serializer):
    """The body of a 429: the API's error, and the seconds to wait (also in Retry-After)."""

    error = serializers.CharField(help_text="Why the request was refused, in a sentence.")
    retry_after = serializers.IntegerField(help_text="Seconds until a new attempt counts.")


THROTTLED = OpenApiResponse(
    ThrottledSerializer, description="Too many requests from this address or for this email."
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        first = next(iter(fields.values()), ["Invalid input."])
        message = first[0] if isinstance(first, list) and first else str(first)
        response.data = {"error": str(message), "fields": fields}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"error": str(data["detail"]), **data}
    return response
