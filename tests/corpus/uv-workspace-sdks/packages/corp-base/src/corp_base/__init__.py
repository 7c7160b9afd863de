"""An SDK that lives in the workspace; the tests change GREETING."""
import acme_sdk_a

GREETING = "base 1"
SDK_A = acme_sdk_a.__version__
