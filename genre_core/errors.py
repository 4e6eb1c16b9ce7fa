"""One exception type for everything a user can cause (bad file, bad path, bad bundle)."""


class GenreError(Exception):
    """A problem the user can act on; its message names the file and the problem."""


class AudioError(GenreError):
    """An audio file or upload could not be turned into usable samples."""


def printable(name) -> str:
    """A file name as text that can always be printed and put in JSON: bytes that are not
    UTF-8 (kept by Python as lone surrogates) become \\xNN escapes."""
    if isinstance(name, bytes):
        return name.decode("utf-8", "backslashreplace")
    text = str(name)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
