"""A small element tree of an HTML page (the standard library's parser), to check what sits where in a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    def text(self) -> str:
        """The text inside, whitespace runs as one space."""
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return " ".join("".join(parts).split())

    def elements(self) -> list[Element]:
        return [child for child in self.children if isinstance(child, Element)]

    def iter(self):
        yield self
        for child in self.elements():
            yield from child.iter()

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        """The first element, this one or below, with ``tag`` and the attributes ``attrs`` (``class_``: class)."""
        wanted = {key.rstrip("_"): value for key, value in attrs.items()}
        for element in self.iter():
            if (tag is None or element.tag == tag) and all(
                element.attrs.get(key) == value for key, value in wanted.items()
            ):
                return element
        return None

    def find_all(self, tag: str) -> list[Element]:
        return [element for element in self.iter() if element.tag == tag]

    def next_element(self) -> Element | None:
        """The element right after this one in its parent (text between them ignored)."""
        if self.parent is None:
            return None
        siblings = self.parent.elements()
        index = next(i for i, sibling in enumerate(siblings) if sibling is self)
        return siblings[index + 1] if index + 1 < len(siblings) else None


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {key: value or "" for key, value in attrs}, parent=self.open)
        self.open.children.append(element)
        if tag not in VOID_TAGS:
            self.open = element

    def handle_endtag(self, tag: str) -> None:
        element = self.open
        while element is not self.root and element.tag != tag:
            element = element.parent
        if element is not self.root:
            self.open = element.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def parse_html(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root
