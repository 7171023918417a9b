"""Suggest a category for a resident's free-text report.

A small multinomial naive Bayes, written out here, learns from each active public category's
name (weighted up), its major class name and its example reports (`Category.examples`, one per
line). Features are jieba words (search mode, so 窨井盖 also yields 井盖) plus character bigrams
of the Chinese runs, which cope with words jieba does not know. Category names are added to the
segmenter as user words so they stay whole.

The model lives in the process and is rebuilt when the categories change. Every `suggest` call
reads the active public categories (one query, about a hundred short rows) and compares a hash of
the fields the model learns from with the hash it was built on. So any change, from the admin,
`categories_load`, a queryset `update()` or another worker process, is picked up on the next
call, which signals (per process, save-only) would miss. The categories returned are the rows of
that same query, so they are never stale.

jieba's dictionary takes about a second to load, so it loads on the first call, under a lock; the
segmenter is a private `jieba.Tokenizer`, so our user words do not change jieba's global one.
Nothing is downloaded: jieba ships its dictionary (it caches a parsed copy in the temp dir).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linli.workorders.models import Category

if TYPE_CHECKING:
    import jieba

MAX_TEXT = 4000
NAME_WEIGHT = 5.0
MAJOR_WEIGHT = 1.0
BIGRAM_WEIGHT = 0.5
ALPHA = 1.0  # additive (Laplace) smoothing
# Below this much known evidence (one known word, or two known bigrams) the text is garbage.
MIN_EVIDENCE = 1.0
MIN_SCORE = 0.01
# jieba's own suggestion keeps a name whole only when it stands alone (群租 gets 1, and 有人群租
# still splits into 有/人群/租); the frequency of an ordinary noun (人群 has 2369) keeps it whole
# in context.
USER_WORD_FREQ = 2000

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_KEEP = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[a-z]{2,}")
_PARENTHESES = re.compile(r"[（(][^）)]*[）)]")
# Function words and politeness that say nothing about the category.
_STOPWORDS = """的 地 得 了 着 过 是 在 有 我 我们 我家 你 你们 他 她 它 他们 这 那 这个 那个 这里 那里 这边
    那边 就 都 也 还 又 再 很 太 挺 真 吗 呢 吧 啊 呀 哦 嘛 和 与 跟 及 或 被 把 给 让 从 对 向 到
    一 一个 个 些 一些 一下 一直 已经 没 没有 不 不是 什么 怎么 怎么办 为什么 能 能不能 可以 可能
    会 要 想 请 麻烦 谢谢 您好 你好 问题 反映 情况 现在 今天 昨天 处理 解决 希望 尽快 帮忙 帮助
    上 下 里 中 后 前 边 号 说 看 人 家 多 好 大 小 几 啥 哈 哈哈 喂 嗯"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True)
class Suggestion:
    category: Category
    score: float  # posterior probability among the categories offered to residents, 0..1


@dataclass(frozen=True)
class _Model:
    signature: str
    pks: tuple[int, ...]
    # feature -> {class index: weighted count}; classes without the feature are implicit.
    counts: dict[str, dict[int, float]]
    log_denominator: tuple[float, ...]  # per class: log(total weight + ALPHA * vocabulary)


_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_model: _Model | None = None


def suggest(text: str, limit: int = 3) -> list[Suggestion]:
    """Up to `limit` categories for `text`, most likely first; [] for empty or garbage text."""
    if not isinstance(text, str) or not text.strip() or limit <= 0:
        return []
    categories = list(Category.objects.filter(active=True, public=True).order_by("pk"))
    if not categories:
        return []
    model = _current_model(categories)
    by_pk = {c.pk: c for c in categories}
    return [
        Suggestion(category=by_pk[pk], score=score)
        for pk, score in _rank(model, text[:MAX_TEXT], _segmenter())[:limit]
        if score >= MIN_SCORE
    ]


def _rank(model: _Model, text: str, tokenizer: jieba.Tokenizer) -> list[tuple[int, float]]:
    """(category pk, posterior) for every class, best first; [] without enough known evidence."""
    known = {f: w for f, w in _features(text, tokenizer).items() if f in model.counts}
    if sum(known.values()) < MIN_EVIDENCE:
        return []
    # log P(c | text) with a uniform prior, up to a constant: sum of w * log((n_cf + a) / D_c),
    # where a class without the feature has n_cf = 0, so log(a) is common to all and drops out.
    scores = [-sum(known.values()) * d for d in model.log_denominator]
    log_alpha = math.log(ALPHA)
    for feature, weight in known.items():
        for index, count in model.counts[feature].items():
            scores[index] += weight * (math.log(count + ALPHA) - log_alpha)
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    ranked = sorted(zip(model.pks, exps, strict=True), key=lambda pair: pair[1], reverse=True)
    return [(pk, e / total) for pk, e in ranked]


def _signature(categories: list[Category]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for c in categories:
        digest.update(f"{c.pk}\x1f{c.name}\x1f{c.major_name}\x1f{c.examples}\x1e".encode())
    return digest.hexdigest()


def _current_model(categories: list[Category]) -> _Model:
    global _model
    signature = _signature(categories)
    model = _model
    if model is not None and model.signature == signature:
        return model
    tokenizer = _segmenter()
    with _lock:
        if _model is None or _model.signature != signature:
            _model = _train(categories, signature, tokenizer)
        return _model


def _segmenter() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def _bare_name(name: str) -> str:
    return _PARENTHESES.sub("", name).strip()


def _train(categories: list[Category], signature: str, tokenizer: jieba.Tokenizer) -> _Model:
    # Called under _lock. User words are only ever added (a renamed category leaves its old
    # name in the dictionary, which is harmless), so a concurrent cut never sees one removed.
    for category in categories:
        name = _bare_name(category.name)
        # Only when missing or rarer: add_word adds to jieba's running total without taking the
        # old frequency off, so re-adding on every rebuild would drift it.
        if (
            len(name) >= 2
            and _CJK_RUN.fullmatch(name)
            and tokenizer.FREQ.get(name, 0) < USER_WORD_FREQ
        ):
            tokenizer.add_word(name, freq=USER_WORD_FREQ)

    bags: list[Counter[str]] = []
    for category in categories:
        bag: Counter[str] = Counter()
        for feature, weight in _features(_bare_name(category.name), tokenizer).items():
            bag[feature] += NAME_WEIGHT * weight
        for feature, weight in _features(category.major_name, tokenizer).items():
            bag[feature] += MAJOR_WEIGHT * weight
        for line in category.examples.splitlines():
            bag.update(_features(line, tokenizer))
        bags.append(bag)
    # Scale each feature by its inverse class frequency (Rennie et al. 2003), so words every
    # other class uses too (坏了, 小区, 楼下) weigh less than the telling ones.
    spread = Counter(feature for bag in bags for feature in bag)
    counts: dict[str, dict[int, float]] = defaultdict(dict)
    totals = []
    for index, bag in enumerate(bags):
        for feature, weight in bag.items():
            counts[feature][index] = weight * math.log(1 + len(bags) / spread[feature])
        totals.append(sum(counts[feature][index] for feature in bag))
    vocabulary = len(counts)
    return _Model(
        signature=signature,
        pks=tuple(c.pk for c in categories),
        counts=dict(counts),
        log_denominator=tuple(math.log(t + ALPHA * vocabulary) for t in totals),
    )


def _features(text: str, tokenizer: jieba.Tokenizer) -> Counter[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    features: Counter[str] = Counter()
    for word in tokenizer.lcut_for_search(text):
        word = word.strip()
        if word and word not in STOPWORDS and _KEEP.search(word) and not word.isdigit():
            features[word] += 1.0
    for run in _CJK_RUN.findall(text):
        for i in range(len(run) - 1):
            bigram = run[i : i + 2]
            if bigram not in STOPWORDS:
                features["~" + bigram] += BIGRAM_WEIGHT
    return features
