"""The API's JSON parser: DRF's, but absurdly deep nesting (`[[[[...` thousands deep) is a 400, not the
RecursionError (and 500) Python's json module raises for it."""
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
