"""Demo app: imports the private SDKs installed from the private index."""
import acme_sdk_a
import acme_sdk_b

print("demoapp: acme_sdk_a from", acme_sdk_a.__file__)
print("demoapp:", acme_sdk_b.hello() if hasattr(acme_sdk_b, "hello") else "acme_sdk_b imported")
