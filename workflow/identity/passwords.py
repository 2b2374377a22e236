"""Password hashing (argon2id) and the rules for a new password, with the shipped list of
breached passwords."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from ..errors import Invalid


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    # Verified against when the username is unknown, so that the answer takes as
    # long as for a real account and timing does not reveal which usernames exist.
    return hasher, hasher.hash("not-a-real-password")


def password_hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the configured cost (the library's defaults unless a test lowers them)."""
    config = current_app.config
    return _hasher_for(int(config["ARGON2_TIME_COST"]), int(config["ARGON2_MEMORY_KIB"]))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return password_hasher()[0].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher()[0].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, *, username: str = "") -> None:
    """Refuse a password that is too short, is the username, or is on the shipped list of
    breached passwords (in Thai and English)."""

    minimum = int(current_app.config["PASSWORD_MIN_LENGTH"])
    if len(password) < minimum:
        raise Invalid(f"รหัสผ่านต้องยาวอย่างน้อย {minimum} ตัวอักษร",
                      f"The password must be at least {minimum} characters.",
                      code="password_too_short")
    if len(password) > 1024:
        raise Invalid("รหัสผ่านยาวเกินไป", "The password is too long.", code="password_too_long")
    if username and password.strip().lower() == username.strip().lower():
        raise Invalid("รหัสผ่านต้องไม่ซ้ำกับชื่อผู้ใช้", "The password must differ from the username.",
                      code="password_is_username")
    if is_breached(password):
        raise Invalid("รหัสผ่านนี้อยู่ในรายการรหัสผ่านที่รั่วไหลหรือใช้กันทั่วไป กรุณาตั้งรหัสผ่านอื่น",
                      "This password appears in a list of breached or common passwords.",
                      code="password_breached")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, lowercased (read once per process)."""
    text = resources.files("workflow").joinpath("data", "common-passwords.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def is_breached(password: str) -> bool:
    """True if ``password`` (ignoring case and surrounding spaces) is on the breached list."""
    return password.strip().lower() in common_passwords()
