import pytest

from linli.core.models import AuditEvent
from linli.votes import selectors
from linli.votes.models import RuleSetting
from linli.votes.services import ballot_cast
from linli.votes.tests.factories import an_open_vote, register

pytestmark = pytest.mark.django_db

ADD = "/admin/votes/rulesetting/add/"


def test_the_admin_lists_rules_with_their_source_status(client_as):
    page = client_as("admin").get(ADD).content.decode()
    assert "committee_election · UNVERIFIED" in page
    assert "owners_special · PRIMARY" in page


def test_only_unverified_or_policy_rules_take_overrides(client_as):
    client = client_as("admin")
    refused = client.post(ADD, {"rule_id": "owners_special", "overrides": '{"majority": "2/3"}'})
    assert refused.status_code == 200 and not RuleSetting.objects.exists()
    bad = client.post(ADD, {"rule_id": "committee_election", "overrides": '{"turnout": "3/2"}'})
    assert bad.status_code == 200 and not RuleSetting.objects.exists()
    done = client.post(
        ADD, {"rule_id": "committee_election", "overrides": '{"turnout": "2/3"}', "note": "区规定"}
    )
    assert done.status_code == 302
    setting = RuleSetting.objects.get()
    assert setting.overrides == {"turnout": "2/3"}
    assert AuditEvent.objects.filter(action="votes.rule_setting.save").exists()
    assert "UNVERIFIED" in client.get("/admin/votes/rulesetting/").content.decode()


def test_a_vote_keeps_the_overrides_it_opened_with(client_as, world, users):
    register(world, users)
    RuleSetting.objects.create(rule_id="committee_election", overrides={"turnout": "2/3"})
    vote = an_open_vote(
        world, kind="election", seats=5, options=["甲", "乙", "丙", "丁", "戊", "己"]
    )
    RuleSetting.objects.filter(rule_id="committee_election").update(overrides={})
    ids = list(vote.options.values_list("pk", flat=True))
    ballot_cast(actor=users["resident"], vote=vote, choice=ids[:5])
    outcome = selectors.vote_result(vote=vote)["outcome"]
    assert outcome["params"]["turnout"] == "2/3" and outcome["overridden"] == ["turnout"]


def test_workers_do_not_reach_the_admin(client_as):
    assert client_as("worker").get(ADD).status_code == 302
