import threading

import pytest

from linli.workorders import classify
from linli.workorders.classify import Suggestion, suggest
from linli.workorders.models import Category

pytestmark = pytest.mark.django_db

# Written as residents write, and not among the fixture's examples (checked below).
HELD_OUT = [
    ("楼下井盖松动了，车一压就响", "C0199"),
    ("隔壁装修天天电钻到晚上十点", "E0604"),
    ("小区里有人群租，一套房住了十几个人", "E0601"),
    ("楼道里堆满了纸箱", "E0603"),
    ("路灯坏了好几天不亮", "C0118"),
    ("楼上天天往下扔烟头，阳台上全是", "E0606"),
    ("晚上看到有人把电瓶拎回家里充，还有人在楼梯下面充电", "E0607"),
    ("楼上卫生间渗水，我家天花板都发霉了", "E0610"),
    ("一楼住户在院子里搭了个阳光房", "E0602"),
    ("小区门口有流动摊贩卖水果", "E0501"),
    ("电线杆上贴满了小广告", "E0201"),
    ("晚上消防通道两边都停着车，消防车肯定进不来", "E0611"),
    ("自来水管爆了，马路上全是水", "E0402"),
    ("楼下饭店油烟太大，窗户都不敢开", "E0107"),
    ("楼下草地被人翻了种上了青菜，还施肥很臭", "E0612"),
    ("公共厕所没水冲不了", "C0301"),
    ("消火栓在漏水", "C0114"),
    ("邻居之间因为公共走廊的使用闹得很僵", "E0605"),
    ("工地半夜还在施工，噪音很大", "E0301"),
    ("电梯坏了，家里老人下不了楼", "C0606"),
    ("共享单车把人行道都堵住了", "E0505"),
    ("下水道反水了，污水流得到处都是", "E0404"),
]

GARBAGE = ["", "   ", "asdfgh", "哈哈哈哈", "你好", "123456", "？？？！！", "测试一下", "谢谢"]


def test_the_held_out_phrases_are_not_examples():
    examples = {
        line.strip()
        for text in Category.objects.values_list("examples", flat=True)
        for line in text.splitlines()
    }
    assert not examples & {text for text, _ in HELD_OUT}


@pytest.mark.parametrize(("text", "service_code"), HELD_OUT)
def test_it_suggests_the_right_category_first(text, service_code):
    suggestions = suggest(text)
    assert suggestions, text
    assert suggestions[0].category.service_code == service_code, [
        (s.category.service_code, s.category.name, round(s.score, 2)) for s in suggestions
    ]


def test_suggestions_are_ranked_probabilities_of_offered_categories():
    suggestions = suggest("楼道里堆满了纸箱", limit=5)
    assert 1 <= len(suggestions) <= 5
    assert all(isinstance(s, Suggestion) and isinstance(s.category, Category) for s in suggestions)
    scores = [s.score for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores) and sum(scores) <= 1 + 1e-9
    assert all(s.category.public and s.category.active for s in suggestions)
    assert len(suggest("楼道里堆满了纸箱", limit=1)) == 1


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_gives_nothing(text):
    assert suggest(text) == []


def test_retired_or_hidden_categories_are_not_suggested():
    assert suggest("路灯坏了好几天不亮")[0].category.service_code == "C0118"
    Category.objects.filter(service_code="C0118").update(active=False)
    assert all(s.category.service_code != "C0118" for s in suggest("路灯坏了好几天不亮"))
    # The specific manhole types are for grid workers; residents get the unverified one.
    assert all(s.category.public for s in suggest("标着污水的井盖碎了", limit=10))


def test_the_model_is_rebuilt_when_examples_change_and_only_then():
    assert suggest("麒麟灯笼") == []
    model = classify._model
    suggest("楼道里堆满了纸箱")
    assert classify._model is model  # nothing changed: no retraining

    lights = Category.objects.get(service_code="C0306")
    # A queryset update sends no signal; the signature still sees it.
    Category.objects.filter(pk=lights.pk).update(
        examples=lights.examples + "\n中秋节挂在路口的麒麟灯笼掉下来了"
    )
    suggestions = suggest("麒麟灯笼")
    assert classify._model is not model
    assert suggestions[0].category.service_code == "C0306"
    assert suggestions[0].category.examples.endswith("麒麟灯笼掉下来了")  # a fresh row


def test_category_names_are_kept_whole_by_the_segmenter():
    suggest("楼道里堆满了纸箱")
    assert "群租" in classify._segmenter().lcut("小区里有人群租")


def test_concurrent_first_calls_build_one_segmenter(monkeypatch):
    monkeypatch.setattr(classify, "_tokenizer", None)
    monkeypatch.setattr(classify, "_model", None)
    seen, errors = [], []

    def call():
        try:
            seen.append(classify._segmenter())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(seen) == 4 and len({id(t) for t in seen}) == 1
