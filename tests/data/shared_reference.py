"""Where the upstream reference files lie: ``../shared/reference/`` beside the repository (never copied into it)."""
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
