"""The few exceptions the assistant raises on purpose.

Each message says what was wrong and what to do about it, because the CLI and
the UI show it to a clinician verbatim. Only the CLI and UI turn these into
exit codes or on-screen errors.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: anything the user can act on."""


class InputError(AssistantError, ValueError):
    """The question (or another user input) cannot be answered as given."""


class UnknownDocumentError(InputError):
    """A document filter names a guideline the index does not hold."""


class SettingsError(InputError):
    """A setting (keyword argument or GUIDELINE_ASSISTANT_* variable) has an unusable value."""


class CorpusError(AssistantError):
    """A guideline file or the corpus folder cannot be used."""


class UnsupportedFileType(CorpusError):
    """A corpus file is neither .txt nor .md."""


class IndexCorrupt(AssistantError):
    """The index files on disk are damaged or inconsistent; rebuild them."""


class StaleIndex(AssistantError):
    """The index was built from another corpus, model or chunker version."""


class ModelError(AssistantError):
    """The embedding model cannot be loaded from local files."""


class IndexBusy(AssistantError):
    """Another process is building the same index right now."""


class IndexFolderError(AssistantError):
    """The index folder cannot be used: a link, a file, someone else's folder, or not writable. Nothing was touched."""


class RankerTrainingError(InputError):
    """A gold set that cannot train a ranker (too few questions whose evidence is among the candidates)."""


class AuditLogError(AssistantError):
    """The audit log cannot be written or read (a folder that is not ours, a full or read-only disk)."""
