"""`python -m billing`: one invoice total through the in-repository library."""
import acme_sdk_b
import corp_money
import six

total = corp_money.total(["12.50", "7.25"])
print("corpus: billing total", total, "from", corp_money.__file__, "six", six.__version__, "sdk", acme_sdk_b.greet())
