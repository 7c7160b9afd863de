from decimal import Decimal


def total(amounts):
    return str(sum((Decimal(a) for a in amounts), Decimal("0")))
