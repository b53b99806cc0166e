"""tankersim: discrete-event simulation of tanker shuttles, for testing claims about deliveries."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tankersim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
