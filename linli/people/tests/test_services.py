import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from linli.core.models import AuditEvent
from linli.people.choices import EventKind, ResidentStatus
from linli.people.models import Resident, Tag
from linli.people.services import (
    id_lookup_hash,
    pii_reveal,
    resident_create,
    resident_move_out,
    resident_record_death,
    resident_return,
    resident_transfer,
    resident_update,
)
from linli.people.tests.factories import a_household, a_resident, an_id_number

pytestmark = pytest.mark.django_db


def test_identifiers_are_ciphertext_in_the_database(world):
    number = an_id_number()
    resident = a_resident(a_household(world.committees[0]), id_number=number)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_cipher, phone_cipher, id_masked, phone_masked FROM people_resident "
            "WHERE id = %s",
            [resident.pk],
        )
        id_cipher, phone_cipher, id_masked, phone_masked = cursor.fetchone()
    assert number not in id_cipher and "13812345678" not in phone_cipher
    assert id_cipher.startswith("gAAAA")  # a Fernet token
    assert id_masked == number[:6] + "********" + number[-4:]
    assert phone_masked == "138****5678"
    assert Resident.objects.get(id_hash=id_lookup_hash(number.lower())) == resident


def test_the_same_person_cannot_be_registered_twice(world):
    number = an_id_number()
    a_resident(a_household(world.committees[0]), id_number=number)
    with translation.override("en"), pytest.raises(ValidationError, match="already in the"):
        a_resident(a_household(world.committees[1]), id_number=number)


def test_bad_fields_are_all_reported(world):
    with pytest.raises(ValidationError) as caught:
        a_resident(
            a_household(world.committees[0]),
            name=" ",
            id_number="310104198002291311",
            phone="12",
            registration="x",
            tags=["no-such-tag"],
        )
    assert set(caught.value.message_dict) == {"name", "id_number", "phone", "registration", "tags"}


def test_reveal_needs_permission_and_a_reason_and_is_audited(world, users):
    resident = a_resident(a_household(world.committees[0]), phone="13900001111")
    with pytest.raises(PermissionDenied):
        pii_reveal(actor=users["stranger"], obj=resident, field="phone", reason="回访核实")
    with pytest.raises(PermissionDenied):
        pii_reveal(actor=users["gridworker"], obj=resident, field="phone", reason="回访核实")
    with pytest.raises(ValidationError):
        pii_reveal(actor=users["worker"], obj=resident, field="phone", reason="  ")
    assert pii_reveal(actor=users["worker"], obj=resident, field="phone", reason="回访核实") == (
        "13900001111"
    )
    event = AuditEvent.objects.get(action="people.resident.reveal_phone")
    assert event.actor_id == users["worker"].pk and event.reason == "回访核实"
    assert "13900001111" not in str(event.changes)


def test_history_keeps_every_change(world):
    household = a_household(world.committees[0])
    other = a_household(world.committees[0], index=1)
    resident = a_resident(household, phone="13900001111")
    day = dt.date(2024, 3, 1)
    resident_update(
        actor=None,
        resident=resident,
        date=day,
        name=resident.name,
        id_number=an_id_number(),
        phone="13900002222",
        ethnicity="回族",
        registration="registered",
        residence="living_registered",
        relation="head",
        tags=["独居老人"],
    )
    resident_transfer(actor=None, resident=resident, household=other, date=day)
    resident_record_death(actor=None, resident=resident, date=day, note="病故")
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.DECEASED and resident.path == other.path
    kinds = list(resident.events.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        EventKind.MOVE_IN,
        EventKind.STATUS,
        EventKind.TRANSFER,
        EventKind.TRANSFER,
        EventKind.DEATH,
    ]
    update = resident.events.get(kind=EventKind.STATUS)
    assert update.changes["phone"] == ["139****1111", "139****2222"]
    assert update.changes["tags"] == [[], [Tag.objects.get(name="独居老人").code]]
    # The first household keeps the trace of the person who left it.
    assert household.events.filter(kind=EventKind.TRANSFER).exists()
    with pytest.raises(ValidationError):
        resident_move_out(actor=None, resident=resident, date=day)


def test_a_worker_cannot_write_to_another_committees_register(world, users):
    household = a_household(world.committees[1])
    with pytest.raises(PermissionDenied):
        resident_create(
            actor=users["worker"],
            household=household,
            date=dt.date(2024, 1, 1),
            name="李四",
            id_number=an_id_number(),
            registration="migrant",
            residence="living_only",
            relation="head",
        )


def _edit(resident, **changes):
    values = {
        "name": resident.name,
        "id_number": None,
        "phone": None,
        "ethnicity": resident.ethnicity,
        "registration": resident.registration,
        "residence": resident.residence,
        "relation": resident.relation,
        "tags": [t.code for t in resident.tags.all()],
    }
    values.update(changes)
    return resident_update(actor=None, resident=resident, date=dt.date(2024, 3, 1), **values)


def test_the_audit_trail_masks_names_and_keeps_sensitive_tags_out(world):
    resident = a_resident(
        a_household(world.committees[0]), name="欧阳小明", tags=["low_income", "veteran"]
    )
    created = AuditEvent.objects.get(action="people.resident.create")
    assert created.object_repr == f"#{resident.pk} 欧**明"
    assert created.changes["name"] == [None, "欧**明"]
    assert created.changes["tags"] == [[], ["veteran"]]
    assert created.changes["sensitive_tags"] == "changed"
    assert "low_income" not in str(created.changes)
    _edit(resident, name="欧阳晓明", tags=["veteran"])
    updated = AuditEvent.objects.get(action="people.resident.update")
    assert updated.changes == {"name": ["欧**明", "欧**明"], "sensitive_tags": "changed"}
    # The resident's own history, behind the register's permissions, keeps the detail.
    event = resident.events.get(kind=EventKind.STATUS)
    assert event.changes["tags"] == [["low_income", "veteran"], ["veteran"]]


def test_a_retired_tag_stays_on_the_people_who_hold_it(world):
    resident = a_resident(a_household(world.committees[0]), tags=["veteran", "volunteer"])
    Tag.objects.filter(code="veteran").update(active=False)
    resident.refresh_from_db()
    # The edit form offers only active tags: the retired one is not in the list sent back.
    _edit(resident, tags=["volunteer"], ethnicity="回族")
    assert {t.code for t in resident.tags.all()} == {"veteran", "volunteer"}


def test_dates_before_birth_are_refused(world):
    household = a_household(world.committees[0])
    with translation.override("en"), pytest.raises(ValidationError, match="before the person"):
        a_resident(household, id_number=an_id_number(dt.date(2010, 1, 1)), date=dt.date(2009, 1, 1))
    resident = a_resident(household, id_number=an_id_number(dt.date(2010, 1, 1)))
    with pytest.raises(ValidationError):
        resident_move_out(actor=None, resident=resident, date=dt.date(2009, 12, 31))


def test_a_person_who_moved_out_comes_back_with_the_same_record(world, users):
    committee = world.committees[0]
    household, other = a_household(committee), a_household(committee, index=1)
    number = an_id_number()
    resident = a_resident(household, id_number=number)
    resident_move_out(actor=None, resident=resident, date=dt.date(2023, 6, 1))
    # Adding them again is refused with a pointer to the return.
    with translation.override("en"), pytest.raises(ValidationError, match="Back in the register"):
        a_resident(other, id_number=number)
    with pytest.raises(ValidationError):  # dated before they left
        resident_return(
            actor=users["worker"], resident=resident, household=other, date=dt.date(2023, 5, 1)
        )
    with pytest.raises(PermissionDenied):  # another committee's worker
        resident_return(
            actor=users["stranger"], resident=resident, household=other, date=dt.date(2024, 1, 1)
        )
    resident_return(
        actor=users["worker"], resident=resident, household=other, date=dt.date(2024, 1, 1)
    )
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE and resident.status_date is None
    assert resident.household == other and resident.path == other.path
    back = resident.events.get(kind=EventKind.RETURN)
    assert back.changes == {
        "status": [ResidentStatus.MOVED_OUT, ResidentStatus.ACTIVE],
        "household": [household.pk, other.pk],
    }
    assert AuditEvent.objects.filter(
        action="people.resident.return", object_id=str(resident.pk)
    ).exists()
    with pytest.raises(ValidationError):  # already back
        resident_return(
            actor=users["worker"], resident=resident, household=other, date=dt.date(2024, 2, 1)
        )


def test_a_death_recorded_in_error_is_undone_only_with_a_reason(world, users):
    household = a_household(world.committees[0])
    resident = a_resident(household)
    resident_record_death(actor=None, resident=resident, date=dt.date(2024, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError, match="correction"):
        resident_return(
            actor=users["worker"], resident=resident, household=household, date=dt.date(2024, 1, 2)
        )
    resident_return(
        actor=users["worker"],
        resident=resident,
        household=household,
        date=dt.date(2024, 1, 2),
        note="同名误报，本人健在",
    )
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE
    event = AuditEvent.objects.get(action="people.resident.return")
    assert event.reason == "同名误报，本人健在"
