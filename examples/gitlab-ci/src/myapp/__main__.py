"""The example app: proves the private SDKs are importable at run time."""
import acme_sdk_a
import acme_sdk_b

print("myapp: acme-sdk-a", getattr(acme_sdk_a, "__version__", "?"), "and acme-sdk-b loaded")
