"""A small sample "one-stop system" (relying party) for the trial: it signs officers in through the
portal (authorization code + PKCE S256, ID token checked against the JWKS) and shows the back-channel
logout arriving when the portal ends the officer's access. It stands for a vendor's system: its pages
are in Vietnamese only and it keeps its sessions in memory. Runtime libraries only (requests, jwcrypto)."""
import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.cookies import SimpleCookie
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from django.conf import settings
from django.core.management.base import BaseCommand
from jwcrypto import jwk, jwt

from federation.demo import SAMPLE_CLIENT_ID, sample_secret, sample_urls

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class SampleRelyingParty:
    def __init__(self, *, portal: str, port: int):
        self.portal = portal.rstrip("/")
        self.urls = sample_urls(port)
        self.lock = threading.Lock()
        self.pending = {}   # state -> (nonce, verifier)
        self.sessions = {}  # cookie -> {"claims":…, "id_token":…}
        self.logouts = []   # what arrived by the back channel, newest first
        self._metadata = None

    def metadata(self) -> dict:
        if self._metadata is None:
            self._metadata = requests.get(f"{self.portal}/.well-known/openid-configuration", timeout=5).json()
        return self._metadata

    def keys(self) -> jwk.JWKSet:
        return jwk.JWKSet.from_json(requests.get(self.metadata()["jwks_uri"], timeout=5).text)

    def verify(self, token: str, *, typ: str | None = None) -> dict:
        checked = jwt.JWT(jwt=token, key=self.keys(), algs=["RS256"],
                          check_claims={"iss": self.metadata()["issuer"], "aud": SAMPLE_CLIENT_ID})
        if typ is not None and json.loads(checked.header).get("typ") != typ:
            raise ValueError("wrong token type")
        return json.loads(checked.claims)

    # --- WSGI ----------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/login":
                return self.login(environ, start_response)
            if path == "/callback":
                return self.callback(environ, start_response)
            if path == "/backchannel-logout" and environ["REQUEST_METHOD"] == "POST":
                return self.backchannel_logout(environ, start_response)
            if path == "/logout":
                return self.logout(environ, start_response)
            return self.home(environ, start_response)
        except (requests.RequestException, ValueError, KeyError) as error:
            return self._page(start_response, "502 Bad Gateway",
                              f"<p>Lỗi khi trao đổi với Cổng: {html.escape(str(error))}</p>")

    def _cookie(self, environ) -> str:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        return cookie["rp_session"].value if "rp_session" in cookie else ""

    def _page(self, start_response, status, body, headers=()):
        page = ("<!doctype html><html lang='vi'><head><meta charset='utf-8'><meta name='viewport' "
                "content='width=device-width'><meta http-equiv='refresh' content='3'>"
                "<title>Hệ thống một cửa (mẫu)</title><style>body{font-family:sans-serif;max-width:46rem;margin:2rem auto;"
                "padding:0 1rem}code{word-break:break-all}.ok{color:#05630f}.bad{color:#a40000}</style></head><body>"
                "<h1>Hệ thống thông tin giải quyết thủ tục hành chính (mẫu)</h1>" + body + "</body></html>")
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), *headers])
        return [page.encode()]

    def home(self, environ, start_response):
        with self.lock:
            session = self.sessions.get(self._cookie(environ))
            logouts = list(self.logouts[:10])
        if session:
            claims = session["claims"]
            body = (f"<p class='ok'>Đã đăng nhập qua Cổng an toàn tài khoản: <strong>{html.escape(claims['name'])}</strong> "
                    f"({html.escape(claims['preferred_username'])}), {html.escape(claims['unit_name'])} "
                    f"— xác thực: {html.escape(' + '.join(claims.get('amr', [])))}</p>"
                    "<p><a href='/logout'>Đăng xuất</a></p>")
        else:
            body = "<p>Chưa đăng nhập.</p><p><a href='/login'>Đăng nhập bằng Cổng an toàn tài khoản</a></p>"
        body += "<h2>Thông báo đăng xuất nhận được (back-channel)</h2><ul>"
        for item in logouts:
            body += (f"<li>{item['at']} — sub {html.escape(item['sub'])}, "
                     f"{'phiên ' + html.escape(item['sid'][:8]) + '…' if item['sid'] else 'mọi phiên'}: "
                     f"{item['ended']} phiên kết thúc</li>")
        body += "</ul>" if logouts else "<li>Chưa có.</li></ul>"
        return self._page(start_response, "200 OK", body)

    def login(self, environ, start_response):
        state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        with self.lock:
            self.pending[state] = (nonce, verifier)
        query = urlencode({"response_type": "code", "client_id": SAMPLE_CLIENT_ID, "scope": "openid profile email",
                           "redirect_uri": self.urls["redirect_uri"], "state": state, "nonce": nonce,
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        start_response("302 Found", [("Location", f"{self.metadata()['authorization_endpoint']}?{query}")])
        return [b""]

    def callback(self, environ, start_response):
        params = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            nonce, verifier = self.pending.pop(params.get("state", ""), (None, None))
        if nonce is None or "code" not in params:
            return self._page(start_response, "400 Bad Request",
                              f"<p class='bad'>Đăng nhập không thành công: {html.escape(params.get('error', 'state'))}</p>")
        answer = requests.post(self.metadata()["token_endpoint"], timeout=5, auth=(SAMPLE_CLIENT_ID, sample_secret()),
                               data={"grant_type": "authorization_code", "code": params["code"],
                                     "redirect_uri": self.urls["redirect_uri"], "code_verifier": verifier})
        answer.raise_for_status()
        id_token = answer.json()["id_token"]
        claims = self.verify(id_token)
        if claims.get("nonce") != nonce:
            raise ValueError("nonce")
        cookie = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[cookie] = {"claims": claims, "id_token": id_token}
        start_response("302 Found", [("Location", "/"),
                                     ("Set-Cookie", f"rp_session={cookie}; HttpOnly; SameSite=Lax; Path=/")])
        return [b""]

    def backchannel_logout(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        try:
            claims = self.verify(form["logout_token"][0], typ="logout+jwt")
            if LOGOUT_EVENT not in claims.get("events", {}) or "nonce" in claims:
                raise ValueError("not a logout token")
        except (KeyError, ValueError, jwt.JWException) as error:
            start_response("400 Bad Request", [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
            return [json.dumps({"error": "invalid_request", "error_description": str(error)[:100]}).encode()]
        sid, sub = claims.get("sid", ""), claims.get("sub", "")
        with self.lock:
            ending = [key for key, session in self.sessions.items()
                      if (sid and session["claims"].get("sid") == sid) or (not sid and session["claims"]["sub"] == sub)]
            for key in ending:
                del self.sessions[key]
            self.logouts.insert(0, {"at": time.strftime("%d/%m/%Y %H:%M:%S"), "sub": sub, "sid": sid,
                                    "ended": len(ending)})
        start_response("200 OK", [("Cache-Control", "no-store"), ("Content-Length", "0")])
        return [b""]

    def logout(self, environ, start_response):
        with self.lock:
            session = self.sessions.pop(self._cookie(environ), None)
        if session is None:
            start_response("302 Found", [("Location", "/")])
            return [b""]
        query = urlencode({"id_token_hint": session["id_token"], "post_logout_redirect_uri": self.urls["home"]})
        start_response("302 Found", [("Location", f"{self.metadata()['end_session_endpoint']}?{query}")])
        return [b""]


class Command(BaseCommand):
    help = ("Serve the trial's sample 'one-stop system' (a relying party registered by seed_demo) on "
            "http://127.0.0.1:PORT: single sign-on through the portal and back-channel logout shown live.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--portal", default=settings.PORTAL_URL, help="the portal's address (the issuer)")

    def handle(self, *args, port, portal, **options):
        application = SampleRelyingParty(portal=portal, port=port)
        with make_server("127.0.0.1", port, application, server_class=_ThreadingServer,
                         handler_class=_QuietHandler) as server:
            self.stdout.write(f"Sample one-stop system on http://127.0.0.1:{port}/ (signs in through {portal})")
            server.serve_forever()
