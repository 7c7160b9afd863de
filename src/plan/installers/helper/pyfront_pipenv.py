"""pip's environment for an index list: the one way the helpers hand index
credentials to pip (install.py's pip modes, fetch.py's build-dependency
resolve). Credentials go in the index URLs' userinfo, in the environment:
never in an argv, which a failed step prints and /proc shows to every
process.

Standard library only, Python 3.9 or later.
"""

from urllib.parse import quote


def with_credentials(url, username, password):
    scheme, rest = url.split("://", 1)
    userinfo = quote(username, safe="") + ":" + quote(password, safe="")
    return scheme + "://" + userinfo + "@" + rest


def pip_env(indexes, creds):
    """pip's environment: the indexes, with credentials in their URLs."""
    by_name = {cred.index["name"]: cred for cred in creds}
    default_url = None
    extra_urls = []
    trusted_hosts = []
    for index in indexes:
        url = index["url"]
        cred = by_name.get(index["name"])
        if cred:
            url = with_credentials(url, cred.username, cred.password)
        if index["url"].startswith("http://"):
            trusted_hosts.append(index["url"].split("://", 1)[1].split("/", 1)[0].split(":", 1)[0])
        if index["default"]:
            default_url = url
        else:
            extra_urls.append(url)
    env = {"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}
    if default_url:
        env["PIP_INDEX_URL"] = default_url
    if extra_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(extra_urls)
    if trusted_hosts:
        env["PIP_TRUSTED_HOST"] = " ".join(trusted_hosts)
    return env
