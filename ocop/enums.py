"""Enums whose members carry more than their value: a label msgid, a tone, an icon.

A member is written `NAME = (value, attribute, ...)`; the attributes are named, in order,
by the class's annotations, and `Cls(value)` looks a member up by its value as with any
Enum. A member with too few or too many attributes fails at import, so no state can ship
without its label.
"""

from __future__ import annotations

import enum
import inspect
from typing import Self


class EnumWithAttributes(enum.Enum):
    def __new__(cls, value: str, *attributes: object) -> Self:
        names = list(inspect.get_annotations(cls))
        if len(attributes) != len(names):
            raise TypeError(
                f"{cls.__name__} member {value!r}: expected {len(names)} attribute(s) "
                f"({', '.join(names)}), got {len(attributes)}"
            )
        member = object.__new__(cls)
        member._value_ = value
        for name, attribute in zip(names, attributes, strict=True):
            setattr(member, name, attribute)
        return member


__all__ = ["EnumWithAttributes"]
