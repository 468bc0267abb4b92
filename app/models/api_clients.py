"""OAuth 2.0 clients of an issuer, for the W3C VC-API endpoints (client credentials grant)."""

from __future__ import annotations
