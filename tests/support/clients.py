"""Test clients that sign in: the login form (``AuthActions``) and the API (``ApiClient``)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def office_of(client: FlaskClient, username: str) -> str:
    """The code of the one office with a user ``username`` ("" when there is none or several):
    tests name people by username, and sign-in needs their office once there are two."""
    from sqlmodel import select

    from workflow.extensions import db
    from workflow.models import Organization, User

    with client.application.app_context():
        codes = db.session.exec(select(Organization.code).join(
            User, User.org_id == Organization.id).where(User.username == username)).all()
    return codes[0] if len(codes) == 1 else ""


class AuthActions:
    """Log a test client in and out as a demo user."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = "demo", office: str | None = None) -> Any:
        """Sign in through the login form (signing out whoever was signed in first), in
        ``office`` or else the one office that has ``username``."""
        self._client.post("/logout")
        office = office_of(self._client, username) if office is None else office
        return self._client.post("/login", data={"office": office, "username": username,
                                                 "password": password})

    def logout(self) -> Any:
        """Sign out."""
        return self._client.post("/logout")


class ApiClient:
    """Call the JSON API as a given user, with a bearer token per user."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = "demo") -> str:
        """The user's bearer token, issued on first use (in the one office that has
        ``username``)."""
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token",
                                        json={"office": office_of(self.client, username),
                                              "username": username, "password": password})
            assert response.status_code == 201, response.json
            self._tokens[username] = response.json["token"]
        return self._tokens[username]

    def call(self, method: str, path: str, username: str, **kwargs: Any) -> Any:
        """``method`` on ``/api/v1<path>`` as ``username``."""
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def act(self, memo_id: int, username: str, action: str, comment: str = "", **extra: Any) -> Any:
        """Take ``action`` on the memo as ``username`` through the API."""
        return self.call("POST", f"/memos/{memo_id}/actions", username,
                         json={"action": action, "comment": comment, **extra})
