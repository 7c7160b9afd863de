"""`python -m shop_api`: with --serve, uvicorn; else a self-check of the app."""
import sys

import fastapi
import pydantic_core
import uvicorn

from shop_api.main import Order, app

if "--serve" in sys.argv:
    uvicorn.run(app, host="0.0.0.0", port=8000)
else:
    routes = sorted(r.path for r in app.routes if r.path in ("/health", "/orders"))
    order = Order.model_validate({"sku": "a-1", "quantity": "2"})
    print("corpus: fastapi", fastapi.__version__, "pydantic-core", pydantic_core.__version__,
          "routes", routes, "order", order.quantity)
