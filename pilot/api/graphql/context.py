from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from strawberry.fastapi import BaseContext

from pilot.auth.service import Principal


@dataclass
class Context(BaseContext):
    session: Session
    principal: Principal
    loaders: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
