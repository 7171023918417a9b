"""Many voters cast at the same moment, several times each and through two channels at once, in
real concurrent database transactions: every voter is counted exactly once, the tallies are
exact, and every duplicate gets the clear "already voted" error. PostgreSQL only (the SQLite
suite covers the same unique index one transaction at a time, in test_services)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from linli.accounts.services import user_create
from linli.conftest import PASSWORD
from linli.votes import selectors
from linli.votes.models import Ballot, Participation
from linli.votes.services import AlreadyVoted, ballot_cast, ballot_record
from linli.votes.tests.factories import an_open_vote, register

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL concurrency"),
]

VOTERS = 8
TRIES = 3  # online attempts per voter, all at once


def test_concurrent_ballots_count_each_voter_once(world, users):
    people = register(world, users, households=4, per_household=2)
    accounts = []
    for index, resident in enumerate(people):
        account = user_create(actor=None, username=f"voter{index}", password=PASSWORD)
        resident.account = account
        resident.save(update_fields=["account"])
        accounts.append(account)
    vote = an_open_vote(world, title="并发表决")
    wanted = {account.pk: ("yes" if i % 3 else "no") for i, account in enumerate(accounts)}

    jobs = []
    for account in accounts:
        jobs += [("online", account, wanted[account.pk])] * TRIES
    # A worker enters a meeting ballot for half of them at the same moment.
    for resident, account in list(zip(people, accounts, strict=True))[::2]:
        jobs.append(("meeting", resident, wanted[account.pk]))
    barrier = threading.Barrier(len(jobs))
    outcomes: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def run(channel, who, choice):
        try:
            barrier.wait(timeout=30)
            if channel == "online":
                ballot_cast(actor=who, vote=vote, choice=choice)
                key = who.pk
            else:
                ballot_record(
                    actor=users["worker"],
                    vote=vote,
                    voter_key=f"r:{who.pk}",
                    choice=choice,
                    channel="meeting",
                )
                key = who.account_id
            outcome = "ok"
        except AlreadyVoted:
            outcome, key = "already", getattr(who, "account_id", None) or who.pk
        except Exception as exc:  # pragma: no cover - shown in the assertion below
            outcome, key = f"error: {exc!r}", 0
        finally:
            connections.close_all()
        with lock:
            outcomes.append((outcome, key, channel))

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    errors = [o for o in outcomes if o[0].startswith("error")]
    assert not errors, errors
    assert len(outcomes) == len(jobs)
    ok = Counter(key for outcome, key, _channel in outcomes if outcome == "ok")
    assert ok == Counter({account.pk: 1 for account in accounts})
    assert sum(1 for o in outcomes if o[0] == "already") == len(jobs) - VOTERS
    assert Participation.objects.filter(vote=vote).count() == VOTERS
    assert Ballot.objects.filter(vote=vote, counted=True).count() == VOTERS
    result = selectors.vote_result(vote=vote)
    expected = Counter(wanted.values())
    assert result["took_part"] == VOTERS
    assert (result["facts"]["yes"], result["facts"]["no"]) == (expected["yes"], expected["no"])
