from django.db import migrations

# The starting vocabulary; administrators add or retire tags in the admin.
TAGS = [
    ("elderly_alone", "独居老人", False, "Aged 60 or over and living alone."),
    ("elderly_80", "高龄老人", False, "Aged 80 or over."),
    ("empty_nest", "纯老家庭", False, "Only elderly people live in the household."),
    ("veteran", "退役军人", False, "Veteran or military dependant."),
    ("party_member", "党员", False, "Member of the Communist Party of China."),
    ("volunteer", "志愿者", False, "Registered volunteer."),
    ("disabled", "残疾人", True, "Holds a disability certificate."),
    ("low_income", "低保低收入", True, "Receives minimum living allowance or low-income aid."),
    ("health_watch", "重点健康关注", True, "Serious illness or care needs the committee follows."),
    ("special_care", "特殊人群", True, "Person the committee follows for special reasons."),
]


def seed(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    for code, name, sensitive, description in TAGS:
        Tag.objects.get_or_create(
            code=code, defaults={"name": name, "sensitive": sensitive, "description": description}
        )


def unseed(apps, schema_editor):
    apps.get_model("people", "Tag").objects.filter(code__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0001_register")]

    operations = [migrations.RunPython(seed, unseed)]
