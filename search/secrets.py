"""Masking of credentials in URLs before they are printed, logged or stored."""
import re

# scheme://user:password@host -> scheme://user:***@host
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<pw>[^@/\s]+)@")


def mask(text):
    """The text with every URL password replaced by ***."""
    return _USERINFO.sub(lambda m: f"{m.group('head')}:***@", str(text))
