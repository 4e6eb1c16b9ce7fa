"""The clip a visitor chose, as one object kept in their session: its bytes, its name, where it
came from (upload, recording, dataset), its content hash, and (once decoded for a feature
configuration) the decoded Clip or the reason it cannot be used. Only this one is kept
decoded: no decoded copies pile up in a cache shared by every visitor."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genre_core.inference.cache import content_hash


@dataclass
class ChosenClip:
    data: bytes
    name: str
    source: str = "upload"           # "upload" | "recording" | "dataset"
    digest: str = ""
    # (the feature configuration it was decoded for, the Clip or the error text)
    decoded: tuple[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = content_hash(self.data)

    def same_as(self, data: bytes, name: str) -> bool:
        return self.name == name and self.digest == content_hash(data)

    def decoded_for(self, config_key: str):
        """The Clip or error text decoded for this configuration, or None if not yet."""
        if self.decoded is not None and self.decoded[0] == config_key:
            return self.decoded[1]
        return None

    @property
    def clip(self):
        """The decoded Clip (None until decoded, or when the audio cannot be used)."""
        value = None if self.decoded is None else self.decoded[1]
        return None if isinstance(value, str) else value
