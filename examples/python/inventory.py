"""A small inventory module: the quick-start example for `llama-lsp complete`."""

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Item:
    """One stock-keeping unit."""

    sku: str
    name: str
    quantity: int = 0
    price: float = 0.0
    tags: list[str] = field(default_factory=list)

    def total_value(self) -> float:
        """Value of all units of this item in stock."""
        return self.quantity * self.price


class Inventory:
    """Items by SKU, persisted as a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, Item] = {}

    def add(self, item: Item) -> None:
        """Add an item, or add its quantity to the existing one."""
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item

    def remove(self, sku: str, quantity: int) -> None:
        """Take ``quantity`` units of ``sku`` out of stock."""
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} in stock")
        item.quantity -= quantity

    def total_value(self) -> float:
        """Value of everything in stock."""
        return sum(item.total_value() for item in self.items.values())

    def load(self) -> None:
        """Read the inventory from its JSON file."""
        with open(self.path) as f:
            data = 

    def save(self) -> None:
        """Write the inventory to its JSON file."""
        records = [item.__dict__ for item in self.items.values()]
        self.path.write_text(json.dumps(records, indent=2))
