"""Amounts of money as people read them. Amounts are in minor units (pence, cents)."""

from __future__ import annotations

SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€"}


def format_money(amount: int, currency: str, *, short: bool = False) -> str:
    """£29.00, or with `short` £29 for whole amounts (£29.50 stays): as a paywall reads."""
    value = f"{amount // 100:,}" if short and amount % 100 == 0 else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(currency.lower())
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"
