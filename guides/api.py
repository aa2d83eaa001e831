from __future__ import annotations

from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from coaching import throttles
from coaching.api import THROTTLED, ErrorSerializer
from guides.search import MAX_PAGE, MAX_QUERY_LENGTH, MODES, clean_query, search_guides


class SearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, trim_whitespace=True)

    def validate_q(self, value: str) -> str:
        cleaned = clean_query(value)
        if not cleaned:
            raise serializers.ValidationError("Type at least one word to search for.")
        return cleaned

    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=50, default=20)
    mode = serializers.ChoiceField(choices=MODES, default="hybrid")


class HitSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    visibility = serializers.CharField()
    read_time_minutes = serializers.IntegerField()
    snippet = serializers.CharField(help_text="HTML: escaped text with <mark> around matches.")
    full_text = serializers.BooleanField(
        help_text="False when the snippet comes from the public preview of a gated guide."
    )


class SearchResponse(serializers.Serializer):
    query = serializers.CharField()
    corrected = serializers.CharField(allow_null=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    results = HitSerializer(many=True)


@extend_schema(
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, required=True, description="Words to find"),
        OpenApiParameter("page", OpenApiTypes.INT),
        OpenApiParameter("page_size", OpenApiTypes.INT),
        OpenApiParameter(
            "mode",
            OpenApiTypes.STR,
            enum=list(MODES),
            default="hybrid",
            description="`hybrid` (default): full text and meaning (sentence embeddings), "
            "fused; answers questions in plain language. `text`: exact keyword search only.",
        ),
    ],
    responses={200: SearchResponse, 400: ErrorSerializer, 429: THROTTLED},
    summary="Search guides",
    description="Hybrid search (full text and sentence embeddings) or full text only; "
    "gated guides match and show snippets from their public part only, unless the "
    "signed-in reader may read them in full. The search page shows the same ranking.",
)
@api_view(["GET"])
def search(request: Request) -> Response | JsonResponse:
    wait = throttles.check(request, "search")
    if wait is not None:
        return throttles.too_many_json(wait, "Too many searches from here just now.")
    params = SearchParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    page, size = params.validated_data["page"], params.validated_data["page_size"]
    results = search_guides(
        params.validated_data["q"],
        request.user,
        limit=size,
        offset=(page - 1) * size,
        session=request.session,
        mode=params.validated_data["mode"],
    )
    payload = {
        "query": results.query,
        "corrected": results.corrected,
        "total": results.total,
        "page": page,
        "results": [
            {
                "slug": hit.slug,
                "title": hit.title,
                "url": hit.url,
                "summary": hit.summary,
                "category": hit.category,
                "visibility": hit.visibility,
                "read_time_minutes": hit.read_time_minutes,
                "snippet": hit.snippet,
                "full_text": hit.full_text,
            }
            for hit in results.hits
        ],
    }
    return Response(SearchResponse(payload).data)
