from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from linli.core.audit import audit_purge, audit_record, audit_verify
from linli.core.models import AuditEvent


def _events(n, actor=None, place=None):
    return [
        audit_record(actor=actor, action="test.thing", place=place, changes={"i": i})
        for i in range(n)
    ]


def _raw_update(pk, **values):
    """Tamper as an attacker with database access would: around the trigger."""
    table = AuditEvent._meta.db_table
    values = {
        k: connection.ops.adapt_datetimefield_value(v) if k == "at" else v
        for k, v in values.items()
    }
    sets = ", ".join(f"{k} = %s" for k in values)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
            cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), pk])
        else:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER core_auditevent_guard")
            cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [*values.values(), pk])
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER core_auditevent_guard")


def test_chain_verifies(db, world):
    _events(5, place=world.street)
    result = audit_verify()
    assert result.ok, result.message
    assert result.checked == AuditEvent.objects.count()


def test_edited_row_is_detected(db, world):
    events = _events(4, place=world.street)
    _raw_update(events[1].pk, reason="nothing happened here")
    result = audit_verify()
    assert not result.ok
    assert result.broken_at == events[1].pk
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def test_deleted_row_is_detected(db, world):
    events = _events(4, place=world.street)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:  # around the trigger, as an attacker with DB access
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditevent_no_early_delete")
        else:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER core_auditevent_guard")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [events[2].pk])
    assert audit_verify().broken_at == events[3].pk


def test_database_refuses_update_and_young_delete(db):
    (event,) = _events(1)
    table = AuditEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET reason = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")


def test_purge_never_deletes_younger_than_180_days(db):
    events = _events(3)
    with pytest.raises(ValueError):
        audit_purge(days=179)
    _raw_update(events[0].pk, at=timezone.now() - timedelta(days=181))
    _raw_update(events[1].pk, at=timezone.now() - timedelta(days=179))
    # The chain is broken by our backdating; purge must still only take the old row.
    assert audit_purge() == 1
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {events[1].pk, events[2].pk}


def test_chain_still_verifies_after_purge(db):
    events = _events(3)
    _raw_update(events[0].pk, at=timezone.now() - timedelta(days=200))
    assert audit_purge() == 1
    result = audit_verify()
    assert result.ok, result.message
    assert result.checked == 2


def test_event_records_who_where_and_ip(client, users, world):
    client.force_login(users["worker"])
    client.post("/accounts/logout/", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(action="accounts.sign_out").get()
    assert event.actor_name == "worker"
    assert event.role == "community_worker"
    assert event.ip == "10.1.2.3"


def test_recording_opens_its_own_transaction(monkeypatch, world):
    """The chain head is locked with SELECT … FOR UPDATE, which PostgreSQL allows only inside a
    transaction: a caller in autocommit (a sign-in) relies on audit_record opening one. The
    test's own transaction would hide a missing one, so count the atomic blocks instead."""
    from linli.core import audit

    depth = []
    chain_head = audit._chain_head
    monkeypatch.setattr(
        audit, "_chain_head", lambda: depth.append(len(connection.atomic_blocks)) or chain_head()
    )
    outside = len(connection.atomic_blocks)
    audit_record(actor=None, action="test.thing", place=world.street)
    assert depth == [outside + 1]
