"""An SDK that depends on another member of the workspace."""
import corp_base


def hello():
    return "client -> %s (acme-sdk-a %s)" % (corp_base.GREETING, corp_base.SDK_A)
