"""Matching entries against queries: one at a time, or against every chat's topics at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from itertools import compress, count, islice, pairwise
from typing import TypeVar

from bot.topics import sources
from bot.topics.normalize import analyse
from bot.topics.query import Key, Query

__all__ = ["PreparedEntry", "Routing", "TopicIndex", "matches", "prepare"]

_Bigram = tuple[str, str]
_Item = TypeVar("_Item")

# Chat id → ids of that chat's topics. Once a Routing may hold such a table, the index never
# changes it again: it changes a copy (see TopicIndex._writable).
_Routes = dict[int, tuple[int, ...]]

# Sits between the title's tokens and the text's: it is no word, so no phrase spans the two.
_BOUNDARY = ""


class _Tokens:
    """One token sequence of an entry with its sets of tokens and adjacent pairs."""

    __slots__ = ("bigrams", "sequence", "unigrams")

    def __init__(self, sequence: tuple[str, ...]) -> None:
        self.sequence = sequence
        self.unigrams = frozenset(sequence)
        self.bigrams: frozenset[_Bigram] = frozenset(pairwise(sequence))

    def contains(self, keys: tuple[str, ...]) -> bool:
        if len(keys) == 1:
            return keys[0] in self.unigrams
        if (keys[0], keys[1]) not in self.bigrams:
            return False
        if len(keys) == 2:
            return True
        sequence, first, size = self.sequence, keys[0], len(keys)
        start = sequence.index(first)
        while True:
            if sequence[start : start + size] == keys:
                return True
            try:
                start = sequence.index(first, start + 1)
            except ValueError:
                return False


class PreparedEntry:
    """An entry's title and text, normalised once to be matched against any number of queries.

    ``words`` are the normalised tokens of the title, an empty boundary token, those of the
    text, a boundary, the title's again as title keys (for ``title:``), a boundary and the
    keys of the entry's site and feed; ``stems`` are their stems, position by position.
    ``sourced`` says whether the entry's link and feed were given (see ``matches``).
    """

    __slots__ = ("_exact", "_stemmed", "sourced", "stems", "words")

    def __init__(
        self, words: tuple[str, ...], stems: tuple[str, ...], *, sourced: bool = True
    ) -> None:
        self.words = words
        self.stems = stems
        self.sourced = sourced
        self._exact: _Tokens | None = None
        self._stemmed: _Tokens | None = None

    def _tokens(self, *, exact: bool) -> _Tokens:
        # Built on first use: most queries hold no exact phrase, so most entries never pay for
        # the sets of their exact words.
        if exact:
            if self._exact is None:
                self._exact = _Tokens(self.words)
            return self._exact
        if self._stemmed is None:
            self._stemmed = _Tokens(self.stems)
        return self._stemmed

    def contains(self, key: Key, *, unknown_source: bool = False) -> bool:
        """Whether the entry holds ``key``; ``unknown_source`` answers for a source key when
        the entry was prepared without its link and feed."""
        exact, keys = key
        if not self.sourced and keys[0].startswith((sources.SITE, sources.FEED)):
            return unknown_source
        return self._tokens(exact=exact).contains(keys)


def prepare(
    title: str,
    text: str,
    *,
    link: str | None = None,
    feed_id: int | None = None,
    language: str | None = None,
) -> PreparedEntry:
    """``title`` and ``text`` ready to match; ``link`` and ``feed_id`` for ``site:`` and
    ``feed:``, ``language`` the feed's declared language if it gave one."""
    analysed = analyse(title, text, language=language)
    source = sources.link_keys(link or "")
    if feed_id is not None:
        source.append(sources.feed_key(feed_id))
    return PreparedEntry(
        words=(
            *analysed.title_words,
            _BOUNDARY,
            *analysed.text_words,
            _BOUNDARY,
            *sources.title_keys(analysed.title_words),
            _BOUNDARY,
            *source,
        ),
        stems=(
            *analysed.title_stems,
            _BOUNDARY,
            *analysed.text_stems,
            _BOUNDARY,
            *sources.title_keys(analysed.title_stems),
            _BOUNDARY,
            *source,
        ),
        sourced=link is not None or feed_id is not None,
    )


def matches(query: Query, entry: PreparedEntry) -> bool:
    """Whether ``entry`` matches ``query``.

    An entry prepared without its link and feed can't be judged on ``site:`` or ``feed:``:
    those terms then count as found and never exclude, which is right for candidates the
    full-text index has already filtered on them (``fts.candidates`` does).
    """
    clauses, exclusions = query.keyed
    if any(entry.contains(key) for key in exclusions):
        return False
    return any(
        all(entry.contains(key, unknown_source=True) for key in clause) for clause in clauses
    )


class Routing:
    """The chats that one entry reaches, each with the ids of its topics that the entry matches.

    Made by ``TopicIndex.match``, it holds the index's tables of routes as they were then (the
    index copies a table before changing one that a Routing may hold), and merges them only
    as far as it is asked: ``chats`` and ``len`` are a set union in C; ``items`` merges the
    tables once, for a caller that visits every chat anyway to write its row. Topic ids come
    in no particular order.
    """

    __slots__ = ("_chats", "_groups", "_merged")

    def __init__(self, groups: list[_Routes]) -> None:
        # Largest first: copying it sizes a set or dict once, and each smaller table is then
        # merged in looking up only its own chats.
        self._groups = sorted(groups, key=len, reverse=True)
        self._chats: Set[int] | None = None
        self._merged: _Routes | None = None

    def __len__(self) -> int:
        return len(self.chats)

    def __bool__(self) -> bool:
        return bool(self._groups)  # the index hands over no empty table

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self.chats

    def __iter__(self) -> Iterator[int]:
        return iter(self.chats)

    def __repr__(self) -> str:
        return f"Routing({self._merge()!r})"

    @property
    def chats(self) -> Set[int]:
        """Every chat reached, once; computed on first use, and read-only."""
        if self._chats is None:
            groups = self._groups
            if self._merged is not None:
                self._chats = self._merged.keys()
            elif len(groups) <= 1:
                self._chats = groups[0].keys() if groups else frozenset()
            else:
                chats = set(groups[0])
                chats.update(*groups[1:])
                self._chats = chats
        return self._chats

    def topics_for(self, chat_id: int) -> tuple[int, ...]:
        """The ids of the chat's topics that the entry matches; empty for a chat not reached."""
        if self._merged is not None:
            return self._merged.get(chat_id, ())
        topics: tuple[int, ...] = ()
        for group in self._groups:
            found = group.get(chat_id)
            if found is not None:
                topics = _union(topics, found)
        return topics

    def items(self) -> Iterator[tuple[int, tuple[int, ...]]]:
        """Each chat reached, once, with the ids of its topics that the entry matches."""
        return iter(self._merge().items())

    def _merge(self) -> _Routes:
        if self._merged is None:
            groups = self._groups
            if len(groups) <= 1:
                self._merged = groups[0] if groups else {}
                return self._merged
            merged = groups[0].copy()
            for group in groups[1:]:
                # A chat found twice holds two matching topics, or one OR query reached
                # through two of its phrases (the same topic, kept once).
                shared = [(chat, merged[chat]) for chat in group.keys() & merged.keys()]
                merged.update(group)
                for chat, earlier in shared:
                    merged[chat] = _union(earlier, merged[chat])
            self._merged = merged
        return self._merged


class _Phrase:
    """One distinct phrase the index looks for, and what its occurrence in an entry decides."""

    __slots__ = ("epoch", "exact", "guarded", "keys", "partners", "routes", "users")

    def __init__(self, exact: bool, keys: tuple[str, ...]) -> None:
        self.exact = exact
        self.keys = keys
        self.users = 0  # topics and compiled queries that hold it; at 0 it leaves the index
        # Each stays None until needed: most phrases serve in only one or two of these roles.
        # The topics it satisfies on its own: those of queries that are only ORs of phrases
        # (most queries), this one among them, and those of compiled queries with a clause of
        # this phrase alone and no exclusion. When it occurs, the table joins the Routing.
        self.routes: _Routes | None = None
        self.epoch = 0  # the index's epoch when ``routes`` was made or last copied
        # Those it satisfies on its own unless an exclusion rules them out.
        self.guarded: _Guarded | None = None
        # AND clauses anchored here, by a second phrase of theirs, with their other phrases.
        self.partners: dict[_Phrase, list[tuple[_Compiled, tuple[_Phrase, ...]]]] | None = None


class _Guarded:
    """The topics of compiled queries with an exclusion that one phrase satisfies alone."""

    __slots__ = ("epoch", "routes", "vetoes")

    def __init__(self, epoch: int) -> None:
        self.routes: _Routes = {}
        self.epoch = epoch  # as for a phrase's routes
        self.vetoes: dict[_Phrase, list[_Compiled]] = {}  # those queries, by their exclusions


class _Node:
    """The phrases that start with one pair of tokens: the pair itself, and a trie of longer."""

    __slots__ = ("children", "phrase")

    def __init__(self) -> None:
        self.phrase: _Phrase | None = None
        self.children: dict[str, _Node] | None = None  # None where no longer phrase goes on

    def child(self, key: str) -> _Node | None:
        return None if self.children is None else self.children.get(key)


def _count(node: _Node) -> int:
    return (node.phrase is not None) + sum(map(_count, (node.children or {}).values()))


class _PhraseTable:
    """The phrases of one kind (stemmed or exact), keyed by their token sequences."""

    __slots__ = ("pairs", "singles")

    def __init__(self) -> None:
        self.singles: dict[str, _Phrase] = {}
        self.pairs: dict[_Bigram, _Node] = {}

    def __bool__(self) -> bool:
        return bool(self.singles or self.pairs)

    def __len__(self) -> int:
        return len(self.singles) + sum(map(_count, self.pairs.values()))

    def get(self, keys: tuple[str, ...]) -> _Phrase | None:
        if len(keys) == 1:
            return self.singles.get(keys[0])
        node = self.pairs.get((keys[0], keys[1]))
        for key in keys[2:]:
            if node is None:
                return None
            node = node.child(key)
        return None if node is None else node.phrase

    def add(self, phrase: _Phrase) -> None:
        keys = phrase.keys
        if len(keys) == 1:
            self.singles[keys[0]] = phrase
            return
        node = self.pairs.setdefault((keys[0], keys[1]), _Node())
        for key in keys[2:]:
            if node.children is None:
                node.children = {}
            node = node.children.setdefault(key, _Node())
        node.phrase = phrase

    def remove(self, phrase: _Phrase) -> None:
        keys = phrase.keys
        if len(keys) == 1:
            del self.singles[keys[0]]
            return
        path = [self.pairs[(keys[0], keys[1])]]
        for key in keys[2:]:
            following = path[-1].child(key)
            assert following is not None
            path.append(following)
        path[-1].phrase = None
        # path[i] is reached by keys[: i + 2]; prune what now leads to no phrase.
        for depth in range(len(path) - 1, -1, -1):
            node = path[depth]
            if node.phrase is not None or node.children:
                return
            if depth == 0:
                del self.pairs[(keys[0], keys[1])]
            else:
                parent = path[depth - 1]
                assert parent.children is not None
                del parent.children[keys[depth + 1]]
                if not parent.children:
                    parent.children = None

    def collect(self, sequence: tuple[str, ...], hits: set[_Phrase]) -> None:
        """Add to ``hits`` every phrase that occurs in ``sequence``."""
        # Each token and each pair of the entry is looked up once, in C: the cost follows the
        # entry's length, not the number of phrases.
        if self.singles:
            hits.update(map(self.singles.__getitem__, self.singles.keys() & sequence))
        if not self.pairs:
            return
        starts: set[_Bigram] = set()
        for pair in self.pairs.keys() & pairwise(sequence):
            node = self.pairs[pair]
            if node.phrase is not None:
                hits.add(node.phrase)
            if node.children is not None:
                starts.add(pair)
        if starts:
            self._walk(sequence, starts, hits)

    def _walk(self, sequence: tuple[str, ...], starts: set[_Bigram], hits: set[_Phrase]) -> None:
        # C finds where the starts occur in one pass over the entry; from each, at most as many
        # steps as the longest phrase has words (capped by the query language): linear in the
        # entry's length.
        size = len(sequence)
        for position in compress(count(), map(starts.__contains__, pairwise(sequence))):
            node: _Node | None = self.pairs[(sequence[position], sequence[position + 1])]
            following = position + 2
            while node is not None and following < size:
                node = node.child(sequence[following])
                if node is not None and node.phrase is not None:
                    hits.add(node.phrase)
                following += 1


class _Compiled:
    """A query with an AND or an exclusion, shared by every topic (of any chat) that asks it.

    Queries that are only ORs of phrases need no such object: their topics are routed
    straight from each phrase's routes.
    """

    __slots__ = ("clauses", "epoch", "exclusions", "routes")

    def __init__(
        self,
        clauses: tuple[tuple[_Phrase, ...], ...],
        exclusions: tuple[_Phrase, ...],
        epoch: int,
    ) -> None:
        self.clauses = clauses
        self.exclusions = exclusions
        self.routes: _Routes = {}  # chat id → its topics that ask this query
        self.epoch = epoch  # as for a phrase's routes

    @property
    def phrases(self) -> set[_Phrase]:
        return {phrase for clause in self.clauses for phrase in clause}.union(self.exclusions)

    @property
    def alone(self) -> list[_Phrase]:
        """The phrases that are a whole clause: each satisfies the query unless it's excluded."""
        return [clause[0] for clause in self.clauses if len(clause) == 1]

    @property
    def anchors(self) -> list[tuple[_Phrase, _Phrase, tuple[_Phrase, ...]]]:
        """Each AND clause as the phrase it is anchored on, a partner and the rest."""
        anchors = []
        for clause in self.clauses:
            if len(clause) > 1:
                # Stable, so the same clause gives the same anchor when it is discarded.
                anchor, partner, *rest = sorted(clause, key=_specificity, reverse=True)
                anchors.append((anchor, partner, tuple(rest)))
        return anchors


_Shape = tuple[tuple[tuple[_Phrase, ...], ...], tuple[_Phrase, ...]]


class TopicIndex:
    """Every active topic of every chat, compiled to route an entry to the chats it matches.

    Changes are incremental. Each distinct phrase is compiled once, whichever chats and
    queries use it, and so is each distinct query with an AND or an exclusion; queries equal
    up to inflection (``sanction``, ``sanctions``) share them. Matching costs time in
    proportion to the entry's length and to the phrases and AND clauses its words reach, never
    to the number of topics held; merging the routes of the chats reached is left to the
    Routing. Not thread-safe: change and match it from one thread (the event loop).
    """

    def __init__(self) -> None:
        self._tables = (_PhraseTable(), _PhraseTable())  # stemmed, exact
        self._compiled: dict[_Shape, _Compiled] = {}
        # A topic's compiled query; for an OR of phrases the phrases themselves, and for the
        # most common topic, a single phrase, that phrase without a tuple around it.
        self._topics: dict[int, _Compiled | _Phrase | tuple[_Phrase, ...]] = {}
        # Counts the Routings handed out that hold tables of routes: a table made or copied
        # in an earlier epoch may be held by one, and is copied before it changes.
        self._epoch = 0

    def __len__(self) -> int:
        return len(self._topics)

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self._topics

    def topic_ids(self) -> list[int]:
        """The ids of every topic the index routes for."""
        return list(self._topics)

    @property
    def distinct_phrases(self) -> int:
        return sum(len(table) for table in self._tables)

    @property
    def distinct_queries(self) -> int:
        """Compiled queries with an AND or an exclusion; the rest are only their phrases."""
        return len(self._compiled)

    def add(self, topic_id: int, chat_id: int, query: Query) -> None:
        """Route entries matching ``query`` to ``chat_id``; re-adding a topic replaces it."""
        if topic_id in self._topics:
            self.remove(topic_id)
        clauses, exclusions = self._shape(query)
        alone = (topic_id,)  # one tuple shared by every table where the chat has no other
        if exclusions or any(len(clause) > 1 for clause in clauses):
            compiled = self._compiled.get((clauses, exclusions))
            if compiled is None:
                compiled = self._compile(clauses, exclusions)
            self._topics[topic_id] = compiled
            _route(self._writable(compiled), chat_id, alone)
            for phrase in compiled.alone:
                _route(self._writable(_holder(phrase, compiled)), chat_id, alone)
            return
        phrases = tuple(clause[0] for clause in clauses)
        self._topics[topic_id] = phrases[0] if len(phrases) == 1 else phrases
        for phrase in phrases:
            phrase.users += 1
            _route(self._writable(phrase), chat_id, alone)

    def remove(self, topic_id: int) -> None:
        """Stop routing for ``topic_id``; an unknown id is ignored."""
        held = self._topics.pop(topic_id, None)
        if held is None:
            return
        if isinstance(held, _Compiled):
            chat_id = _unroute(self._writable(held), topic_id)
            for phrase in held.alone:
                if held.exclusions:
                    _unroute(self._writable(_holder(phrase, held)), topic_id, chat_id)
                else:
                    self._unroute(phrase, topic_id, chat_id)
            if not held.routes:
                self._discard(held)
            return
        phrases = (held,) if isinstance(held, _Phrase) else held
        found: int | None = None
        for phrase in sorted(phrases, key=lambda phrase: len(phrase.routes or ())):
            found = self._unroute(phrase, topic_id, found)
            self._release(phrase)

    def match(self, entry: PreparedEntry) -> Routing:
        """The chats ``entry`` reaches, each with the ids of its topics that it matches."""
        hits: set[_Phrase] = set()
        stemmed, exact = self._tables
        if stemmed:
            stemmed.collect(entry.stems, hits)
        if exact:
            exact.collect(entry.words, hits)

        groups: list[_Routes] = []
        matched: set[_Compiled] = set()
        for phrase in hits:
            if phrase.routes:
                groups.append(phrase.routes)
            guarded = phrase.guarded
            if guarded is not None and guarded.routes:
                vetoers = guarded.vetoes.keys() & hits
                if not vetoers:
                    groups.append(guarded.routes)
                else:
                    vetoed = {
                        compiled for vetoer in vetoers for compiled in guarded.vetoes[vetoer]
                    }
                    kept = _without(guarded.routes, vetoed)
                    if kept:
                        groups.append(kept)
            if phrase.partners:
                for partner in phrase.partners.keys() & hits:
                    for compiled, rest in phrase.partners[partner]:
                        if hits.issuperset(rest) and hits.isdisjoint(compiled.exclusions):
                            matched.add(compiled)
        groups.extend(compiled.routes for compiled in matched)
        if groups:
            self._epoch += 1
        return Routing(groups)

    def _shape(self, query: Query) -> _Shape:
        """``query`` as interned phrases, in an order that equal queries share."""
        # Interned phrases are one object per distinct phrase, so identity can order them.
        keyed_clauses, keyed_exclusions = query.keyed
        clauses = {
            tuple(sorted({self._intern(key) for key in clause}, key=id))
            for clause in keyed_clauses
        }
        exclusions = {self._intern(key) for key in keyed_exclusions}
        return (
            tuple(sorted(clauses, key=lambda clause: tuple(map(id, clause)))),
            tuple(sorted(exclusions, key=id)),
        )

    def _compile(
        self, clauses: tuple[tuple[_Phrase, ...], ...], exclusions: tuple[_Phrase, ...]
    ) -> _Compiled:
        compiled = _Compiled(clauses, exclusions, self._epoch)
        self._compiled[(clauses, exclusions)] = compiled
        for phrase in compiled.phrases:
            phrase.users += 1
        if exclusions:
            for phrase in compiled.alone:
                if phrase.guarded is None:
                    phrase.guarded = _Guarded(self._epoch)
                for excluder in exclusions:
                    phrase.guarded.vetoes.setdefault(excluder, []).append(compiled)
        for anchor, partner, rest in compiled.anchors:
            if anchor.partners is None:
                anchor.partners = {}
            anchor.partners.setdefault(partner, []).append((compiled, rest))
        return compiled

    def _discard(self, compiled: _Compiled) -> None:
        del self._compiled[(compiled.clauses, compiled.exclusions)]
        if compiled.exclusions:
            for phrase in compiled.alone:
                guarded = phrase.guarded
                assert guarded is not None
                # A query may name the same phrase twice; its first pass removed it already.
                for excluder in compiled.exclusions:
                    kept = [
                        other
                        for other in guarded.vetoes.get(excluder, ())
                        if other is not compiled
                    ]
                    _store(guarded.vetoes, excluder, kept)
                if not guarded.vetoes:
                    phrase.guarded = None
        for anchor, partner, _ in compiled.anchors:
            if anchor.partners is None:
                continue  # a repeated (anchor, partner) pair, already removed
            clauses = [
                clause for clause in anchor.partners.get(partner, ()) if clause[0] is not compiled
            ]
            _store(anchor.partners, partner, clauses)
            anchor.partners = anchor.partners or None
        for phrase in compiled.phrases:
            self._release(phrase)

    def _intern(self, key: Key) -> _Phrase:
        exact, keys = key
        table = self._tables[exact]
        found = table.get(keys)
        if found is None:
            found = _Phrase(exact, keys)
            table.add(found)
        return found

    def _release(self, phrase: _Phrase) -> None:
        phrase.users -= 1
        if not phrase.users:
            self._tables[phrase.exact].remove(phrase)

    def _writable(self, holder: _Phrase | _Guarded | _Compiled) -> _Routes:
        """``holder``'s routes, copied first if a Routing handed out since may hold them."""
        routes = holder.routes
        if routes is None:
            routes = holder.routes = {}
        elif holder.epoch != self._epoch:
            # Copy on write keeps each Routing as it was when matched, while it is still being
            # written to the outbox; a table is copied at most once between two matches.
            routes = holder.routes = routes.copy()
        holder.epoch = self._epoch
        return routes

    def _unroute(self, phrase: _Phrase, topic_id: int, chat_id: int | None) -> int:
        routes = self._writable(phrase)
        chat_id = _unroute(routes, topic_id, chat_id)
        if not routes:
            phrase.routes = None
        return chat_id


def _holder(phrase: _Phrase, compiled: _Compiled) -> _Phrase | _Guarded:
    """What routes the topics of ``compiled`` when ``phrase``, a whole clause of it, occurs."""
    if not compiled.exclusions:
        return phrase
    assert phrase.guarded is not None
    return phrase.guarded


def _without(routes: _Routes, excluded: Iterable[_Compiled]) -> _Routes:
    """A copy of ``routes`` without the topics of ``excluded``, queries whose routes it holds."""
    kept = routes.copy()
    for compiled in excluded:
        for chat_id, topics in compiled.routes.items():
            rest = tuple(topic for topic in kept[chat_id] if topic not in topics)
            if rest:
                kept[chat_id] = rest
            else:
                del kept[chat_id]
    return kept


def _route(routes: _Routes, chat_id: int, topics: tuple[int, ...]) -> None:
    earlier = routes.get(chat_id)
    routes[chat_id] = topics if earlier is None else earlier + topics


def _unroute(routes: _Routes, topic_id: int, chat_id: int | None = None) -> int:
    """Take ``topic_id`` out of ``routes``; returns its chat id, found by a scan if not given."""
    if chat_id is None:
        # Removal is rare next to matching: a scan of one table saves holding a chat id for
        # every topic. Most chats have one topic in a table, which a scan in C finds.
        try:
            position = list(routes.values()).index((topic_id,))
        except ValueError:
            chat_id = next(chat for chat, topics in routes.items() if topic_id in topics)
        else:
            chat_id = next(islice(routes, position, None))
    kept = tuple(topic for topic in routes[chat_id] if topic != topic_id)
    if kept:
        routes[chat_id] = kept
    else:
        del routes[chat_id]
    return chat_id


def _union(earlier: tuple[int, ...], later: tuple[int, ...]) -> tuple[int, ...]:
    if earlier == later or not later:
        return earlier
    if not earlier:
        return later
    if len(later) == 1:
        return earlier if later[0] in earlier else earlier + later
    return earlier + tuple(topic for topic in later if topic not in earlier)


def _specificity(phrase: _Phrase) -> tuple[int, int]:
    # An AND clause is checked only when its most specific phrase occurs, likely the rarest in
    # news text: the one with the most, then the longest, words.
    return len(phrase.keys), sum(map(len, phrase.keys))


def _store(table: dict[_Phrase, list[_Item]], key: _Phrase, items: list[_Item]) -> None:
    if items:
        table[key] = items
    else:
        table.pop(key, None)
