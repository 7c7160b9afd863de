"""TOML for the helper programs: the standard library's tomllib (Python
3.11+), else the tomli that pip vendors (pip 21.2+), which is tomllib's
origin and reads the same. The helpers stay free of packages of their own
on every builder image.
"""

try:
    import tomllib as _toml
except ImportError:  # Python 3.9, 3.10
    from pip._vendor import tomli as _toml

TOMLDecodeError = _toml.TOMLDecodeError


def loads(text):
    """The table in `text` (str); raises TOMLDecodeError."""
    return _toml.loads(text)
