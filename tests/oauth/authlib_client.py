"""Gets access tokens from Steward with Authlib, an independent OAuth2 client,
using both client authentication methods, and verifies each JWT against the
published JWKS with Authlib's own JOSE implementation.

Usage: authlib_client.py ISSUER CLIENT_ID CLIENT_SECRET SCOPE AUDIENCE
Prints one JSON object with the verified claims; exits non-zero on any failure.
"""

import json
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken


def main() -> int:
    issuer, client_id, secret, scope, audience = sys.argv[1:6]
    meta = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["issuer"] == issuer, meta
    jwks = requests.get(meta["jwks_uri"], timeout=10).json()
    keys = JsonWebKey.import_key_set(jwks)
    jwt = JsonWebToken(["EdDSA"])
    out = {}
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(
            client_id, secret, scope=scope, token_endpoint_auth_method=method
        )
        token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"].lower() == "bearer", token
        claims = jwt.decode(
            token["access_token"],
            keys,
            claims_options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": audience},
                "sub": {"essential": True, "value": client_id},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "jti": {"essential": True},
            },
        )
        claims.validate(now=int(time.time()))
        assert claims["client_id"] == client_id, claims
        assert claims["scope"] == scope, claims
        assert claims.header["typ"] == "at+jwt", claims.header
        assert claims.header["alg"] == "EdDSA", claims.header
        out[method] = {"claims": dict(claims), "kid": claims.header["kid"]}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
