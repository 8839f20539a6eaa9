"""Login with ProConnect (OpenID Connect), through Authlib's Starlette client.

The flow is the authorization code with PKCE (S256): ``/connexion`` stores a random
``state``, ``nonce`` and code verifier in the session and sends the browser to the
provider; ``/connexion/retour`` checks the ``state``, exchanges the code (with the
verifier and the client secret), and verifies the ID token: its signature against the
provider's published keys (JWKS), its issuer, audience, expiry, issue time and nonce.
The endpoints come from the provider's discovery document, whose issuer must be the
configured one.

ProConnect gives the e-mail address in its userinfo response, which it signs (a JWT):
when the ID token carries no ``email``, the userinfo response is read, its signature
verified with the same keys, and its ``sub`` must be the ID token's. The names PILOT keeps
are ``given_name`` and ``usual_name`` (ProConnect's family name claim).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    # Authlib 1.9 would rather use httpx2; PILOT (and Starlette's test client) use httpx,
    # which Authlib still supports: its notice about it is not for the server's log.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.starlette_client import OAuth
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import RedirectResponse

from pilot.config import Settings

log = logging.getLogger(__name__)
CLIENT = "proconnect"


class LoginFailed(Exception):
    """The provider's answer could not be trusted or used (logged; a French page is shown)."""


@dataclass(frozen=True)
class Identity:
    """What PILOT keeps of a verified login."""

    subject: str
    email: str
    name: str | None
    id_token: str


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret)


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        oauth = OAuth()
        oauth.register(
            CLIENT,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_post",
            },
        )
        self.app: Any = oauth.create_client(CLIENT)

    async def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = await self.app.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise LoginFailed(f"discovery issuer {metadata.get('issuer')!r} is not {self.issuer}")
        return metadata

    async def login_redirect(self, request: Request, redirect_uri: str) -> RedirectResponse:
        await self._metadata()
        response: RedirectResponse = await self.app.authorize_redirect(request, redirect_uri)
        return response

    async def finish_login(self, request: Request) -> Identity:
        """The verified identity of the person the provider sends back (``LoginFailed``
        when anything is missing, forged, replayed or expired)."""
        try:
            metadata = await self._metadata()
            token = await self.app.authorize_access_token(request)
        except LoginFailed:
            raise
        except Exception as error:  # state, code exchange, signature or claims refused
            raise LoginFailed(f"{type(error).__name__}: {error}") from error
        claims = token.get("userinfo")
        id_token = token.get("id_token")
        if not claims or not id_token:
            raise LoginFailed("no ID token in the token response")
        subject = str(claims["sub"])
        if not claims.get("email"):
            claims = {**claims, **await self._userinfo(metadata, token, subject)}
        email = str(claims.get("email") or "").strip()
        if not email:
            raise LoginFailed("no email claim")
        name = " ".join(
            str(claims[k]).strip() for k in ("given_name", "usual_name") if claims.get(k)
        )
        return Identity(subject=subject, email=email, name=name or None, id_token=id_token)

    async def _userinfo(
        self, metadata: dict[str, Any], token: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint:
            raise LoginFailed("no email in the ID token and no userinfo endpoint")
        response = await self.app.get(endpoint, token=token)
        response.raise_for_status()
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/jwt":
            info = await self._verified_jwt(metadata, response.text)
        else:
            info = dict(response.json())
        if str(info.get("sub")) != subject:
            raise LoginFailed("the userinfo response is about another subject")
        return info

    async def _verified_jwt(self, metadata: dict[str, Any], value: str) -> dict[str, Any]:
        algorithms = metadata.get("userinfo_signing_alg_values_supported") or ["RS256", "ES256"]
        keys = KeySet.import_key_set(await self.app.fetch_jwk_set())
        try:
            decoded = jwt.decode(value.strip(), keys, algorithms=list(algorithms))
        except Exception as error:
            raise LoginFailed(f"userinfo signature: {error}") from error
        claims = dict(decoded.claims)
        if "iss" in claims and str(claims["iss"]).rstrip("/") != self.issuer:
            raise LoginFailed("userinfo issued by another issuer")
        audience = claims.get("aud")
        if audience is not None and self.client_id not in (
            audience if isinstance(audience, list) else [audience]
        ):
            raise LoginFailed("userinfo meant for another client")
        return claims

    async def logout_redirect(
        self, request: Request, *, id_token: str | None, post_logout_redirect_uri: str
    ) -> RedirectResponse | None:
        """The redirect that ends the session at the provider too, or ``None`` when the
        provider has no ``end_session_endpoint``."""
        metadata = await self._metadata()
        if not metadata.get("end_session_endpoint"):
            return None
        response: RedirectResponse = await self.app.logout_redirect(
            request,
            post_logout_redirect_uri=post_logout_redirect_uri,
            id_token_hint=id_token,
        )
        return response


_clients: dict[tuple[str, str, str, str], OidcClient] = {}


def client_for(settings: Settings) -> OidcClient:
    """One client per configuration (its discovery document and keys are cached)."""
    key = (
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret,
        settings.oidc_scopes,
    )
    if key not in _clients:
        _clients[key] = OidcClient(settings)
    return _clients[key]
