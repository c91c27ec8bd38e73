"""The respondent form through plain HTTP, as a browser without JavaScript uses it: pages,
display logic, piping, language, partial answers and resume, repeated POSTs, and every refused
link or answer with its page, its status and nothing stored."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cxloop.surveys.models import SurveyAnswer, SurveyResponse
from tests.surveys.respond_support import EVERY_TYPE, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, drain=False)  # the outbox is tests/surveys/test_responses.py's


def rev_of(html: str) -> str:
    found = re.search(r'name="_rev" value="(\d+)"', html)
    assert found, html
    return found.group(1)


def page_of(html: str) -> list[str]:
    return re.findall(r'name="_page" value="([^"]+)"', html)


def post_page(world: World, path: str, answers: dict[str, str], html: str) -> httpx.Response:
    """Post the form the way a browser does: the hidden fields of the page it shows."""
    data = {"_rev": rev_of(html), "_page": page_of(html), **answers}
    return world.client.post(path, data=data)


def test_detractor_answers_page_by_page_with_logic_piping_and_progress(world: World) -> None:
    link = world.link()
    first = world.client.get(link.path)
    assert first.status_code == 200
    assert "李娜，您好！" in first.text  # piped from the invitation's context
    assert "1 / 3" in first.text  # nps, channel, and "why" that may still show (nps <= 6)
    assert world.invitation(link).status == "opened"
    assert world.responses() == []  # opening stores no response

    second = post_page(world, link.path, {"nps": "3"}, first.text)
    assert second.status_code == 200
    assert page_of(second.text) == ["why"]
    assert "订单O-778哪里做得不好？" in second.text
    assert "2 / 3" in second.text
    (partial,) = world.responses()
    assert partial.status == "partial" and partial.answers == {"nps": 3}
    assert world.invitation(link).status == "started"

    third = post_page(world, link.path, {"why": "送货太慢了，包装也破了"}, second.text)
    assert page_of(third.text) == ["channel"] and "3 / 3" in third.text
    done = post_page(
        world, link.path, {"channel": "other", "channel.other": "微信小程序"}, third.text
    )
    assert done.status_code == 200
    assert "感谢您的反馈！" in done.text
    (response,) = world.responses()
    assert response.status == "completed" and response.feedback_id is None  # in the outbox
    assert response.answers == {
        "nps": 3,
        "why": "送货太慢了，包装也破了",
        "channel": "other",
        "channel.other": "微信小程序",
    }
    assert world.answer_rows() == [
        ("channel", "", None, "other"),
        ("channel", "other", None, "微信小程序"),
        ("nps", "", 3.0, None),
        ("why", "", None, "送货太慢了，包装也破了"),
    ]
    invitation = world.invitation(link)
    assert invitation.status == "completed" and invitation.completed_at is not None


def test_promoter_never_sees_the_hidden_question_and_a_changed_answer_drops_it(
    world: World,
) -> None:
    link = world.link()
    first = world.client.get(link.path)
    second = post_page(world, link.path, {"nps": "2"}, first.text)
    third = post_page(world, link.path, {"why": "太慢"}, second.text)
    assert page_of(third.text) == ["channel"]
    # back to the first question (a link, no script) and change the score to a promoter's
    back = re.search(r'href="([^"]+\?q=[^"]+)"', third.text)
    assert back, "the page links back to the question before it"
    again = world.client.get(back.group(1).replace("&amp;", "&"))
    assert page_of(again.text) == ["why"]
    nps_page = world.client.get(link.path + "?q=nps")
    assert page_of(nps_page.text) == ["nps"] and 'value="2" checked' in nps_page.text
    after = post_page(world, link.path, {"nps": "9"}, nps_page.text)
    assert page_of(after.text) == ["channel"] and "2 / 2" in after.text
    post_page(world, link.path, {"channel": "app"}, after.text)
    (response,) = world.responses()
    assert response.answers == {"nps": 9, "channel": "app"}  # "why" is gone with its condition
    assert ("why", "", None, "太慢") not in world.answer_rows()


def test_partial_answers_resume_where_the_respondent_stopped(world: World) -> None:
    link = world.link()
    first = world.client.get(link.path)
    post_page(world, link.path, {"nps": "10"}, first.text)
    reopened = world.client.get(link.path)  # another day, the same link
    assert page_of(reopened.text) == ["channel"]
    assert "2 / 2" in reopened.text
    assert world.responses()[0].status == "partial"


def test_the_same_post_twice_stores_once_and_shows_thanks_again(world: World) -> None:
    link = world.link()
    first = world.client.get(link.path)
    second = post_page(world, link.path, {"nps": "9"}, first.text)
    data = {"_rev": rev_of(second.text), "_page": page_of(second.text), "channel": "web"}
    one = world.client.post(link.path, data=data)
    two = world.client.post(link.path, data=data)
    assert one.status_code == two.status_code == 200
    assert "感谢您的反馈！" in one.text and "感谢您的反馈！" in two.text
    assert world.count(SurveyResponse) == 1
    assert world.count(SurveyAnswer) == 2
    assert world.responses()[0].step == 2  # two saves, nothing for the repeat

    # a repeated middle page does not store twice either: it shows where the respondent is
    other = world.link(customer_id="c-2")
    page = world.client.get(other.path)
    data = {"_rev": rev_of(page.text), "_page": ["nps"], "nps": "4"}
    world.client.post(other.path, data=data)
    repeat = world.client.post(other.path, data={**data, "nps": "8"})
    assert page_of(repeat.text) == ["why"]
    assert world.responses()[1].answers == {"nps": 4}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"nps": "11"}, "请选择 0 到 10 之间的数字"),
        ({"nps": "ten"}, "请选择 0 到 10 之间的数字"),
        ({}, "请回答这个问题"),
    ],
)
def test_an_out_of_range_answer_is_shown_again_in_chinese_and_nothing_is_stored(
    world: World, answers: dict[str, str], message: str
) -> None:
    link = world.link()
    first = world.client.get(link.path)
    refused = post_page(world, link.path, answers, first.text)
    assert refused.status_code == 422
    assert message in refused.text
    assert 'role="alert"' in refused.text and "aria-invalid" not in refused.text.split("nps")[0]
    assert world.responses() == []
    assert world.invitation(link).status == "opened"


def test_an_out_of_range_answer_in_english(world: World) -> None:
    link = world.link(language="en")
    first = world.client.get(link.path)
    assert 'lang="en"' in first.text and "Hello 李娜!" in first.text
    refused = post_page(world, link.path, {"nps": "-1"}, first.text)
    assert refused.status_code == 422
    assert "Choose a number from 0 to 10." in refused.text
    assert world.responses() == []


def test_other_needs_its_text(world: World) -> None:
    link = world.link()
    first = world.client.get(link.path)
    second = post_page(world, link.path, {"nps": "9"}, first.text)
    refused = post_page(world, link.path, {"channel": "other"}, second.text)
    assert refused.status_code == 422
    assert "请告诉我们" in refused.text
    assert world.responses()[0].status == "partial"


LINK_CASES = ["tampered", "malformed", "expired", "completed", "closed", "unknown"]


def refused_link(world: World, case: str) -> str:
    """A link of the given kind of trouble; the setup stores nothing of the request itself."""
    if case == "tampered":
        token = world.link().token
        return "/s/" + token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    if case == "malformed":
        return "/s/not-a-link"
    if case == "expired":
        return world.link(expires_in=dt.timedelta(seconds=-5)).path
    if case == "completed":
        link = world.link()
        first = world.client.get(link.path)
        second = post_page(world, link.path, {"nps": "10"}, first.text)
        post_page(world, link.path, {"channel": "app"}, second.text)
        return link.path
    if case == "closed":
        link = world.link()
        world.set_distribution(status="closed")
        return link.path
    link = world.link()
    with world.store.sessions() as session:
        from cxloop.surveys.models import Invitation

        row = session.get(Invitation, link.invitation_id)
        session.delete(row)
        session.commit()
    return link.path


EXPECTED = {
    "tampered": (400, "这个调查链接无效", "This survey link is not valid"),
    "malformed": (400, "这个调查链接无效", "This survey link is not valid"),
    "unknown": (404, "找不到这个调查链接", "This survey link was not found"),
    "expired": (410, "这个调查链接已过期", "This survey link has expired"),
    "closed": (410, "这个调查已结束", "This survey is closed"),
    "completed": (409, "您已经回答过这个调查", "You have already answered this survey"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", LINK_CASES)
def test_a_refused_link_gets_a_clear_page_in_the_respondents_language_and_stores_nothing(
    world: World, case: str, lang: str
) -> None:
    path = refused_link(world, case)
    before = [(r.id, r.status, r.step, dict(r.answers)) for r in world.responses()]
    accept = {"Accept-Language": "en-GB,en;q=0.9" if lang == "en" else "zh-CN,zh;q=0.9"}
    status, zh_heading, en_heading = EXPECTED[case]
    # GET with the browser's language; a POST with answers in it too
    shown = world.client.get(path, headers=accept)
    posted = world.client.post(
        path + f"?lang={lang}", data={"_rev": "0", "_page": "nps", "nps": "5"}
    )
    heading = zh_heading if lang == "zh" else en_heading
    assert shown.status_code == status, (case, shown.text[:400])
    if case in ("expired", "completed", "closed"):  # authentic: the invitation's language (zh)
        assert zh_heading in shown.text, shown.text[:600]
    else:
        assert heading in shown.text, shown.text[:600]
    if case == "completed":  # an old form posted again with another answer: not saved, said so
        assert posted.status_code == 200
        said = "您之前已经提交过这份问卷" if lang == "zh" else "You already submitted this survey"
        assert said in posted.text
    else:
        assert posted.status_code == status, (case, posted.text[:400])
        assert heading in posted.text, posted.text[:600]
    after = [(r.id, r.status, r.step, dict(r.answers)) for r in world.responses()]
    assert after == before


def test_an_authentic_link_is_refused_in_the_invitations_language(world: World) -> None:
    link = world.link(language="en", expires_in=dt.timedelta(seconds=-1))
    shown = world.client.get(link.path, headers={"Accept-Language": "zh-CN"})
    assert shown.status_code == 410
    assert "This survey link has expired" in shown.text and 'lang="en"' in shown.text


def test_language_order_query_then_invitation_then_browser(world: World) -> None:
    zh_link = world.link(language="zh")
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    assert "配送体验调查" in world.client.get(zh_link.path, headers=english_browser).text
    chosen = world.client.get(zh_link.path + "?lang=en", headers=english_browser)
    assert "<h1>Delivery survey</h1>" in chosen.text
    assert f'action="{zh_link.path}?lang=en"' in chosen.text  # the choice survives the POST
    path = world.anonymous()
    assert "<h1>Delivery survey</h1>" in world.client.get(path, headers=english_browser).text
    assert "<h1>配送体验调查</h1>" in world.client.get(path).text  # the survey's default


def test_the_thanks_page_speaks_the_language_answered_in(world: World) -> None:
    link = world.link(language="zh")
    first = world.client.get(link.path + "?lang=en")
    data = {"_rev": rev_of(first.text), "_page": ["nps"], "nps": "10"}
    second = world.client.post(link.path + "?lang=en", data=data)
    data = {"_rev": rev_of(second.text), "_page": ["channel"], "channel": "app"}
    done = world.client.post(link.path + "?lang=en", data=data)
    assert "Thank you for your feedback!" in done.text
    assert world.responses()[0].language == "en"


def test_anonymous_respondent_resumes_with_the_cookie(world: World) -> None:
    path = world.anonymous()
    first = world.client.get(path)
    assert 'name="_k"' in first.text
    second = world.client.post(
        path, data={"_rev": rev_of(first.text), "_page": ["nps"], "nps": "6", "_k": "x" * 43}
    )
    assert second.status_code == 200
    assert world.client.cookies.get("cxloop_resume")
    resumed = world.client.get(path)
    assert page_of(resumed.text) == ["why"]
    (response,) = world.responses()
    assert response.invitation_id is None and response.session_key == "x" * 43
    # someone else (no cookie) starts a response of their own
    someone_else = TestClient(world.app)
    assert page_of(someone_else.get(path).text) == ["nps"]
    # the first respondent finishes; the same POST again is a repeat; the cookie is dropped, so
    # this browser's next visit is a new answer (an anonymous link takes any number)
    why_page = world.client.get(path)
    data = {"_rev": rev_of(why_page.text), "_page": ["why"], "why": "一般"}
    world.client.post(path, data=data)
    last = world.client.get(path)
    data = {"_rev": rev_of(last.text), "_page": ["channel"], "channel": "web"}
    assert "感谢您的反馈！" in world.client.post(path, data=data).text
    assert world.client.cookies.get("cxloop_resume") is None
    data["_k"] = "x" * 43  # the form's own key: still the same response
    assert "感谢您的反馈！" in world.client.post(path, data=data).text
    assert [(r.status, r.answers) for r in world.responses()] == [
        ("completed", {"nps": 6, "why": "一般", "channel": "web"})
    ]
    assert page_of(world.client.get(path).text) == ["nps"]


def test_anonymous_one_shot_post_without_hidden_fields_completes(world: World) -> None:
    path = world.anonymous()
    for score in ("3", "10"):  # one client that keeps cookies, as a load test's does
        form = {"nps": score, "channel": "app"}
        if score == "3":
            form["why"] = "慢"
        done = world.client.post(path, data=form)
        assert done.status_code == 200 and "感谢您的反馈！" in done.text
    assert [r.status for r in world.responses()] == ["completed", "completed"]


def test_edits_allowed_reopen_the_completed_response_on_one_page(world: World) -> None:
    world.set_distribution(allow_edits=True)
    link = world.link()
    first = world.client.get(link.path)
    second = post_page(world, link.path, {"nps": "10"}, first.text)
    post_page(world, link.path, {"channel": "app"}, second.text)
    again = world.client.get(link.path)
    assert again.status_code == 200 and page_of(again.text) == ["nps", "channel"]
    edited = post_page(world, link.path, {"nps": "5", "channel": "web"}, again.text)
    assert edited.status_code == 200 and page_of(edited.text) == ["nps", "why", "channel"]
    post_page(world, link.path, {"nps": "5", "why": "一般", "channel": "web"}, edited.text)
    (response,) = world.responses()
    assert response.status == "completed"
    assert response.answers == {"nps": 5, "why": "一般", "channel": "web"}


def test_every_question_type_on_one_page_with_labels(tmp_path: Path) -> None:
    world = make_world(tmp_path, EVERY_TYPE, drain=False)
    link = world.link(role="project_lead")
    page = world.client.get(link.path)
    html = page.text
    assert page_of(html) == [
        "nps",
        "sat",
        "effort",
        "stars",
        "liked",
        "aspects",
        "lead_only",
        "comment",
    ]
    assert html.count("<fieldset") == 8  # 6 choice/scale questions + 2 matrix rows
    assert html.count("<legend") == 8
    for text_id in ("a-lead_only", "a-comment", "a-liked-other"):
        assert f'<label for="{text_id}"' in html and f'id="{text_id}"' in html
    refused = world.client.post(
        link.path,
        data={
            "_rev": "0",
            "_page": page_of(html),
            "nps": "7",
            "sat": "6",
            "liked": ["speed", "price", "staff"],
            "aspects.courier_speed": "9",
            "comment": "x" * 21,
        },
    )
    assert refused.status_code == 422
    for words in (
        "请选择 1 到 5 之间的数字",
        "最多选 2 项",
        "每一行请打 1 到 5 分",
        "请不要超过 20 个字",
    ):
        assert words in refused.text, words
    assert 'value="7" checked' in refused.text  # what was typed is kept
    assert world.responses() == []
    done = world.client.post(
        link.path,
        data={
            "_rev": "0",
            "_page": page_of(html),
            "nps": "7",
            "sat": "4",
            "effort": "6",
            "stars": "10",
            "liked": ["speed", "other"],
            "liked.other": "包装环保",
            "aspects.courier_speed": "5",
            "aspects.packaging": "3",
            "lead_only": "按期交付",
        },
    )
    assert done.status_code == 200, done.text[:500]
    rows = world.answer_rows()
    assert ("aspects", "courier_speed", 5.0, None) in rows
    assert ("liked", "other", 1.0, "包装环保") in rows
    assert ("stars", "", 10.0, None) in rows
    assert ("lead_only", "", None, "按期交付") in rows


def test_a_question_for_another_role_is_not_shown_and_not_stored(tmp_path: Path) -> None:
    world = make_world(tmp_path, EVERY_TYPE, drain=False)
    link = world.link(role="end_user")
    html = world.client.get(link.path).text
    assert "lead_only" not in page_of(html)
    done = world.client.post(
        link.path,
        data={
            "_rev": "0",
            "_page": [*page_of(html), "lead_only"],
            "nps": "9",
            "lead_only": "not mine to say",
        },
    )
    assert done.status_code == 200
    assert "lead_only" not in world.responses()[0].answers


def test_the_first_page_posted_eight_times_at_once_stores_one_response(world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.web.browser import serve

    link = world.link()
    data = {"_rev": "0", "_page": ["nps"], "nps": "7"}
    with serve(world.app) as url:

        def post(_: int) -> int:
            with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as client:
                return client.post(link.path, data=data).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(post, range(8)))
    assert codes == [200] * 8
    (response,) = world.responses()
    assert response.step == 1 and response.answers == {"nps": 7}
