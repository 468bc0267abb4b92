"""Credentials delivered into wallets (OpenID4VCI): offers and the copies they produced."""

from __future__ import annotations
