from fastapi import FastAPI
from pydantic import BaseModel

import acme_sdk_a

app = FastAPI(title="shop-api")


class Order(BaseModel):
    sku: str
    quantity: int = 1


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "sdk": acme_sdk_a.__version__}


@app.post("/orders")
def create_order(order: Order) -> Order:
    return order
