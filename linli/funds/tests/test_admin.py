import pytest

from linli.core.models import AuditEvent
from linli.funds.models import FundProfile, Transaction
from linli.funds.tests.factories import a_commitment, allocated

pytestmark = pytest.mark.django_db

PROFILES = "/admin/funds/fundprofile/"


def _profile_form(world, **changes) -> dict:
    data = {
        "street": world.street.pk,
        "year": 2026,
        "min_self_governance_share": "0.30",
        "self_governance_share": "0.35",
        "office_share": "0.20",
        "office_cap": "",
        "per_project_cap": "20000.00",
        "publicity_days": 7,
        "year_end": "return",
        "return_open_commitments": "on",
        "negative_list": ["banquets_and_meals", "gift_cards_cash_gifts"],
        "require_deliberation": "on",
        "min_participation_rate": "",
        "require_invoice": "on",
        "payment_approvals": 2,
        "disclosure_days": 30,
        "min_reviewers": 3,
        "pass_score": 60,
        "note": "梧桐路街道自治金管理办法（2026）",
    }
    data.update(changes)
    return data


def test_the_profile_form_shows_every_default_with_its_source_status(client_as):
    page = client_as("admin").get(f"{PROFILES}add/").content.decode()
    for status in ("OFFICIAL_WEB", "UNVERIFIED", "POLICY", "SECONDARY"):
        assert status in page
    assert "ZZ-03" in page and "ZZ-06" in page and "publicity_days" in page


def test_an_administrator_sets_a_streets_profile_and_it_is_audited(client_as, world):
    client = client_as("admin")
    done = client.post(f"{PROFILES}add/", _profile_form(world))
    assert done.status_code == 302, done.content.decode()[:2000]
    profile = FundProfile.objects.get()
    assert profile.negative_list == ["banquets_and_meals", "gift_cards_cash_gifts"]
    assert AuditEvent.objects.filter(action="funds.fundprofile.create").exists()
    assert "梧桐路街道" in client.get(PROFILES).content.decode()


def test_the_admin_refuses_a_share_below_the_minimum(client_as, world):
    refused = client_as("admin").post(
        f"{PROFILES}add/", _profile_form(world, self_governance_share="0.2999")
    )
    assert refused.status_code == 200 and not FundProfile.objects.exists()


def test_the_ledger_is_read_only_in_the_admin(client_as, world):
    allocated(world)
    a_commitment(world)
    client = client_as("admin")
    txn = Transaction.objects.first()
    for url in (
        "/admin/funds/transaction/",
        f"/admin/funds/transaction/{txn.pk}/change/",
        "/admin/funds/account/",
        "/admin/funds/fund/",
        "/admin/funds/commitment/",
        "/admin/funds/yearclose/",
    ):
        assert client.get(url).status_code == 200, url
    assert "¥20,000.00" in client.get("/admin/funds/account/").content.decode()
    assert client.get("/admin/funds/transaction/add/").status_code == 403
    assert client.get(f"/admin/funds/transaction/{txn.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/funds/transaction/{txn.pk}/change/", {"memo": "x"}).status_code == 403
    )
    assert Transaction.objects.get(pk=txn.pk).memo == txn.memo


def test_workers_do_not_reach_the_funds_admin(client_as):
    assert client_as("worker").get(PROFILES).status_code == 302
