"""What the live widgets share: stop following on close, a static fallback when saved."""

from __future__ import annotations

from typing import Any

import anywidget

__all__ = ["LiveWidget"]


class LiveWidget(anywidget.AnyWidget):
    """An anywidget that follows a kernel through a ticker and/or a subscription (a TaskWatch or events).

    Subclasses implement :meth:`to_html`; its output rides along as
    ``text/html`` in the mimebundle, so a saved notebook shows the last state.
    """

    def to_html(self) -> str:
        """Static HTML of the current state."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop following the kernel and close the widget."""
        ticker, sub = getattr(self, "_ticker", None), getattr(self, "_subscription", None)
        if ticker is not None:
            ticker.stop()
        if sub is not None:
            sub.close()
        if getattr(self, "comm", None) is not None:  # also safe on a widget whose __init__ failed
            super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if data is not None:
            data["text/html"] = self.to_html()
        return bundle
