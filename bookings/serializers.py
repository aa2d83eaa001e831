"""API input and output shapes (validation only; the services do the work)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bookings.slots import MAX_RANGE_DAYS, BadZone, zone


def _zone(value: str) -> str:
    try:
        zone(value)
    except BadZone as error:
        raise serializers.ValidationError(str(error)) from None
    return value


class SlotQuerySerializer(serializers.Serializer):
    event_type = serializers.SlugField(help_text="The event type's slug.")
    start = serializers.DateField(help_text="First day, in the `tz` zone (YYYY-MM-DD).")
    end = serializers.DateField(help_text=f"Last day, inclusive; at most {MAX_RANGE_DAYS} days.")
    tz = serializers.CharField(max_length=64, help_text="IANA zone of the visitor.")

    def validate_tz(self, value: str) -> str:
        return _zone(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end comes before the start."})
        if (attrs["end"] - attrs["start"]).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"end": f"Ask for at most {MAX_RANGE_DAYS} days at a time."}
            )
        return attrs


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="UTC instant.")
    local_time = serializers.CharField(help_text="HH:MM in the asked zone.")


class SlotDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    slots = SlotSerializer(many=True)


class SlotListSerializer(serializers.Serializer):
    event_type = serializers.SlugField()
    time_zone = serializers.CharField()
    coach_time_zone = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    count = serializers.IntegerField()
    days = SlotDaySerializer(many=True)


class BookingCreateSerializer(serializers.Serializer):
    event_type = serializers.SlugField()
    start = serializers.DateTimeField(help_text="One of the offered starts, with an offset.")
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    time_zone = serializers.CharField(max_length=64)
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate_time_zone(self, value: str) -> str:
        return _zone(value)


class BookingSerializer(serializers.Serializer):
    uid = serializers.UUIDField()
    status = serializers.CharField()
    event_type = serializers.SlugField(source="event_type.slug")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    time_zone = serializers.CharField()
    manage_url = serializers.URLField()
