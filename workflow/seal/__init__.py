"""The office seal: each office's signing certificate, the sealed final PDF of an approved
memo (PAdES, timestamped), and verifying a PDF anyone uploads.

``keys`` holds the key material (generated, or an uploaded PKCS#12; the private key only
encrypted), ``sealing`` renders and signs the final PDF once, ``verify`` answers "is this
the office's sealed memo, unchanged?". It sits above ``memos`` (it renders the memo) and
below ``admin`` and ``platform`` (which create and replace seals).
"""
