"""Masking of credentials before they are printed, logged or stored.

Every form in which SQLAlchemy and libpq take a password is masked: the userinfo of a URL
(scheme://user:password@host), a `password=` query parameter or connection-string keyword,
and values of password-like keys (PGPASSWORD=..., a config key named *password*, *secret*,
*token*). A --multirun's overrides are masked in Hydra's escaped form too (`\\:`, `\\=`,
`\\ `: postgresql\\://user\\:password@host), also as Python writes them in a list's repr."""
import re

MASK = "***"
# scheme://user:password@host -> scheme://user:***@host (SQLAlchemy's make_url stops the
# password at the first @, as here); Hydra escapes its `:` as `\:` in a multirun's overrides
# (`\\:` in the repr of their list)
_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*(?:\\){0,2}://[^:/@\s]*):(?P<pw>[^@\s]+)@")
# a key naming a credential, as a query parameter, libpq keyword, environment variable or
# config entry: ?password=..., password=... host=..., PGPASSWORD=..., "sslpassword": ...
_CREDENTIAL_KEY = r"[\w.\-]*(?:password|passwd|pwd|secret|token)[\w\-]*"
# A value ends at whitespace, `&` or a closing quote or bracket, never at `;` (a password may
# hold one); a character Hydra escaped (`\ `, `\,`) belongs to the value.
_KEYED = re.compile(r"(?i)(?P<key>\b" + _CREDENTIAL_KEY + r"['\"]?\s*(?:\\){0,2}[=:]\s*)"
                    r"(?P<value>'[^']*'|\"[^\"]*\"|(?:\\+.|[^\s&,'\"}\]\\])+)")
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
