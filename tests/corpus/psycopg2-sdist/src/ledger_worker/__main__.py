"""`python -m ledger_worker`: loads the compiled driver and its libpq."""
import acme_sdk_b
import psycopg2
import psycopg2.extensions

print(
    "corpus: psycopg2", psycopg2.__version__.split()[0],
    "libpq", psycopg2.extensions.libpq_version(),
    "sdk", acme_sdk_b.greet(),
)
