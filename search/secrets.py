"""Masking of credentials before they are printed, logged or stored.

Every form in which SQLAlchemy and libpq take a password is masked: the userinfo of a URL
(scheme://user:password@host), a `password=` query parameter or connection-string keyword,
and values of password-like keys (PGPASSWORD=..., a config key named *password*, *secret*,
*token*)."""
import re

MASK = "***"
# scheme://user:password@host -> scheme://user:***@host (SQLAlchemy's make_url stops the
# password at the first @, as here)
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<pw>[^@\s]+)@")
# a key naming a credential, as a query parameter, libpq keyword, environment variable or
# config entry: ?password=..., password=... host=..., PGPASSWORD=..., "sslpassword": ...
_CREDENTIAL_KEY = r"[\w.\-]*(?:password|passwd|pwd|secret|token)[\w\-]*"
_KEYED = re.compile(r"(?i)(?P<key>\b" + _CREDENTIAL_KEY + r"['\"]?\s*[=:]\s*)"
                    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;,'\"}\]]+)")
_KEY_ONLY = re.compile(r"(?i)^" + _CREDENTIAL_KEY + r"$")


def mask(text):
    """The text with every password in it replaced by ***."""
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", str(text))
    return _KEYED.sub(lambda m: m.group("key") + MASK, text)


def is_credential_key(key):
    """True for a config or environment key that names a credential (its last part)."""
    return bool(_KEY_ONLY.match(str(key).rsplit(".", 1)[-1]))


def mask_item(key, value):
    """value masked, entirely when key names a credential (tracking.password, PGPASSWORD)."""
    return MASK if is_credential_key(key) and value not in (None, "") else mask(value)
