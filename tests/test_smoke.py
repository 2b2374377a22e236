"""The seed memo, up its whole route through the web pages."""

from __future__ import annotations

import re


def test_seed_memo_goes_up_the_route(client, auth, demo):
    memo_id = demo["memo_id"]
    auth.login("clerk")
    response = client.post(f"/memos/{memo_id}/act", data={"action": "submit"})
    assert response.status_code == 302
    phrases = ["เพื่อโปรดพิจารณา", "เพื่อโปรดพิจารณา", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ", "ทราบ อนุมัติ"]
    for username, phrase in zip(["head", "deputy", "permsec", "chief"], phrases, strict=True):
        auth.login(username)
        assert client.post(f"/memos/{memo_id}/act",
                           data={"action": "approve", "comment": phrase}).status_code == 302
    page = client.get(f"/memos/{memo_id}").text
    assert 'data-state="approved"' in page
    assert re.findall(r'endorsement-text">([^<]*)<', page) == phrases
