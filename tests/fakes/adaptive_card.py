"""An Adaptive Card checker for tests: what the schema (adaptivecards.io/explorer) requires of
the elements and actions the bot's cards use, since no validator ships with botbuilder.

`validate(card)` returns the problems found, each with its path (`body[2].items[0]: …`), or
an empty list. It checks the required properties, the types of the properties it knows, the
enumerated values of the styles it knows, and that the card's version is at most 1.5 (what
every Teams client renders); an element or action type it does not know is a problem, so a
card cannot pass by using something nobody checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_VERSION = (1, 5)

Json = dict[str, Any]
Problems = list[str]

_ENUMS: dict[str, tuple[str, ...]] = {
    "weight": ("default", "lighter", "bolder"),
    "size": ("default", "small", "medium", "large", "extralarge"),
    "color": ("default", "dark", "light", "accent", "good", "warning", "attention"),
    "fontType": ("default", "monospace"),
    "horizontalAlignment": ("left", "center", "right"),
    "spacing": ("none", "small", "default", "medium", "large", "extralarge", "padding"),
}
_CONTAINER_STYLES = ("default", "emphasis", "good", "attention", "warning", "accent")
_ACTION_STYLES = ("default", "positive", "destructive")
_BOOLEANS = ("wrap", "isSubtle", "separator", "italic", "strikethrough", "underline")


def validate(card: Json) -> Problems:
    """Problems in a top-level card (an attachment's `content`); [] when there are none."""
    problems: Problems = []
    _card(card, "card", problems, nested=False)
    return problems


def _card(card: object, path: str, problems: Problems, *, nested: bool) -> None:
    if not isinstance(card, dict):
        problems.append(f"{path}: a card must be an object")
        return
    if card.get("type") != "AdaptiveCard":
        problems.append(f"{path}: type must be AdaptiveCard, not {card.get('type')!r}")
    version = card.get("version")
    if version is None:
        if not nested:  # only the cards of Action.ShowCard may leave it out
            problems.append(f"{path}: version is required")
    elif not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+", version):
        problems.append(f"{path}: version must be a string such as '1.5', not {version!r}")
    elif tuple(int(part) for part in version.split(".")) > MAX_VERSION:
        problems.append(f"{path}: version {version} is above 1.5")
    _elements(card.get("body", []), f"{path}.body", problems, required=False)
    _actions(card.get("actions", []), f"{path}.actions", problems, required=False)


def _elements(items: object, path: str, problems: Problems, *, required: bool = True) -> None:
    if not isinstance(items, list):
        problems.append(f"{path}: must be a list")
        return
    if required and not items:
        problems.append(f"{path}: must not be empty")
    for index, item in enumerate(items):
        _element(item, f"{path}[{index}]", problems)


def _actions(items: object, path: str, problems: Problems, *, required: bool = True) -> None:
    if not isinstance(items, list):
        problems.append(f"{path}: must be a list")
        return
    if required and not items:
        problems.append(f"{path}: must not be empty")
    for index, item in enumerate(items):
        _action(item, f"{path}[{index}]", problems)


def _string(obj: Json, key: str, path: str, problems: Problems, *, empty: bool = True) -> None:
    value = obj.get(key)
    if not isinstance(value, str):
        problems.append(f"{path}: {key} is required and must be a string")
    elif not empty and not value.strip():
        problems.append(f"{path}: {key} must not be blank")


def _styles(obj: Json, path: str, problems: Problems) -> None:
    for key, allowed in _ENUMS.items():
        value = obj.get(key)
        if value is not None and (not isinstance(value, str) or value.lower() not in allowed):
            problems.append(f"{path}: {key} {value!r} is not one of {allowed}")
    for key in _BOOLEANS:
        if key in obj and not isinstance(obj[key], bool):
            problems.append(f"{path}: {key} must be true or false")


def _element(element: object, path: str, problems: Problems) -> None:
    if not isinstance(element, dict):
        problems.append(f"{path}: an element must be an object")
        return
    kind = element.get("type")
    check = _ELEMENTS.get(kind) if isinstance(kind, str) else None
    if check is None:
        problems.append(f"{path}: unknown element type {kind!r}")
        return
    _styles(element, path, problems)
    check(element, f"{path}<{kind}>", problems)


def _text_block(element: Json, path: str, problems: Problems) -> None:
    _string(element, "text", path, problems)
    if "maxLines" in element and not isinstance(element["maxLines"], int):
        problems.append(f"{path}: maxLines must be a number")


def _rich_text_block(element: Json, path: str, problems: Problems) -> None:
    inlines = element.get("inlines")
    if not isinstance(inlines, list) or not inlines:
        problems.append(f"{path}: inlines is required and must be a non-empty list")
        return
    for index, inline in enumerate(inlines):
        where = f"{path}.inlines[{index}]"
        if isinstance(inline, str):  # the shorthand for a TextRun of that text
            continue
        if not isinstance(inline, dict) or inline.get("type") != "TextRun":
            problems.append(f"{where}: an inline must be a TextRun or a string")
            continue
        _styles(inline, where, problems)
        _string(inline, "text", where, problems)


def _container(element: Json, path: str, problems: Problems) -> None:
    style = element.get("style")
    if style is not None and (not isinstance(style, str) or style.lower() not in _CONTAINER_STYLES):
        problems.append(f"{path}: style {style!r} is not one of {_CONTAINER_STYLES}")
    _elements(element.get("items"), f"{path}.items", problems)


def _column_set(element: Json, path: str, problems: Problems) -> None:
    columns = element.get("columns", [])
    if not isinstance(columns, list):
        problems.append(f"{path}: columns must be a list")
        return
    for index, column in enumerate(columns):
        where = f"{path}.columns[{index}]"
        if not isinstance(column, dict) or column.get("type", "Column") != "Column":
            problems.append(f"{where}: must be a Column")
            continue
        _elements(column.get("items", []), f"{where}.items", problems, required=False)


def _action_set(element: Json, path: str, problems: Problems) -> None:
    _actions(element.get("actions"), f"{path}.actions", problems)


def _table(element: Json, path: str, problems: Problems) -> None:
    columns, rows = element.get("columns"), element.get("rows")
    if not isinstance(columns, list) or not columns:
        problems.append(f"{path}: columns is required and must be a non-empty list")
    elif not all(isinstance(c, dict) for c in columns):
        problems.append(f"{path}: every column definition must be an object")
    if not isinstance(rows, list):
        problems.append(f"{path}: rows is required and must be a list")
        return
    for index, row in enumerate(rows):
        where = f"{path}.rows[{index}]"
        if not isinstance(row, dict) or row.get("type") != "TableRow":
            problems.append(f"{where}: must be a TableRow")
            continue
        cells = row.get("cells")
        if not isinstance(cells, list):
            problems.append(f"{where}: cells is required and must be a list")
            continue
        for number, cell in enumerate(cells):
            at = f"{where}.cells[{number}]"
            if not isinstance(cell, dict) or cell.get("type") != "TableCell":
                problems.append(f"{at}: must be a TableCell")
                continue
            _elements(cell.get("items"), f"{at}.items", problems)


def _image(element: Json, path: str, problems: Problems) -> None:
    _string(element, "url", path, problems, empty=False)


def _fact_set(element: Json, path: str, problems: Problems) -> None:
    facts = element.get("facts")
    if not isinstance(facts, list):
        problems.append(f"{path}: facts is required and must be a list")
        return
    for index, fact in enumerate(facts):
        if not isinstance(fact, dict):
            problems.append(f"{path}.facts[{index}]: a fact must be an object")
            continue
        _string(fact, "title", f"{path}.facts[{index}]", problems)
        _string(fact, "value", f"{path}.facts[{index}]", problems)


def _input(element: Json, path: str, problems: Problems) -> None:
    """Inputs: `id` is required (it names the answer in the submitted value)."""
    _string(element, "id", path, problems, empty=False)


def _choice_set(element: Json, path: str, problems: Problems) -> None:
    """A choice list: an `id`, and `choices` of `title` and `value` strings."""
    _input(element, path, problems)
    choices = element.get("choices")
    if not isinstance(choices, list) or not choices:
        problems.append(f"{path}.choices: a non-empty list is required")
        return
    for index, choice in enumerate(choices):
        if not isinstance(choice, dict):
            problems.append(f"{path}.choices[{index}]: must be an object")
            continue
        _string(choice, "title", f"{path}.choices[{index}]", problems)
        _string(choice, "value", f"{path}.choices[{index}]", problems)


_ELEMENTS: dict[str, Callable[[Json, str, Problems], None]] = {
    "TextBlock": _text_block,
    "RichTextBlock": _rich_text_block,
    "Container": _container,
    "ColumnSet": _column_set,
    "ActionSet": _action_set,
    "Table": _table,
    "Image": _image,
    "FactSet": _fact_set,
    "Input.Text": _input,
    "Input.Date": _input,
    "Input.ChoiceSet": _choice_set,
}


def _action(action: object, path: str, problems: Problems) -> None:
    if not isinstance(action, dict):
        problems.append(f"{path}: an action must be an object")
        return
    kind = action.get("type")
    if kind not in ("Action.Submit", "Action.OpenUrl", "Action.ShowCard"):
        problems.append(f"{path}: unknown action type {kind!r}")
        return
    where = f"{path}<{kind}>"
    _string(action, "title", where, problems, empty=False)
    style = action.get("style")
    if style is not None and (not isinstance(style, str) or style.lower() not in _ACTION_STYLES):
        problems.append(f"{where}: style {style!r} is not one of {_ACTION_STYLES}")
    if kind == "Action.OpenUrl":
        _string(action, "url", where, problems, empty=False)
    elif kind == "Action.ShowCard":
        if "card" not in action:
            problems.append(f"{where}: card is required")
        else:
            _card(action["card"], f"{where}.card", problems, nested=True)
    elif "data" in action and not isinstance(action["data"], dict | str):
        problems.append(f"{where}: data must be an object or a string")
