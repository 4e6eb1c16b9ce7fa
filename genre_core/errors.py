"""One exception type for everything a user can cause (bad file, bad path, bad bundle)."""


class GenreError(Exception):
    """A problem the user can act on; its message names the file and the problem."""


class AudioError(GenreError):
    """An audio file or upload could not be turned into usable samples."""
