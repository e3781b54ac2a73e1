"""Serializer fields for the API's inputs: text fields that take only JSON strings.

DRF's CharField (and its subclasses: slug, e-mail, URL...) turns a JSON number into text: `{"note": 5}` saved the
note "5". A client sending a number, a boolean or a list where the schema says string has a bug it should hear
about, so that is a 400 like any other wrong type.
"""
from django.db import models
from rest_framework import serializers


class OnlyStrings:
    """Mixin for a CharField (or subclass): anything but a str is refused with the field's `invalid` message."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(OnlyStrings, serializers.CharField):
    pass


class StrictSlugField(OnlyStrings, serializers.SlugField):
    pass


class StrictEmailField(OnlyStrings, serializers.EmailField):
    pass


class StrictURLField(OnlyStrings, serializers.URLField):
    pass


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text columns take only strings, for the API's inputs."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
    }
