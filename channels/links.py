"""The links every message carries (``message.unsubscribe_url``, ``message.view_url``): ONE
function builds them, so the engagement issue swaps in its real endpoints here. Until then they
are stable signed placeholders under ``SITE_URL`` (``/u/<token>``, ``/v/<token>``), one signing
salt per purpose; a proof's links name no message, so they act on no real record."""

from django.conf import settings
from django.core import signing

PURPOSES = {"unsubscribe_url": ("u", "channels.unsubscribe"), "view_url": ("v", "channels.view")}


def message_links(message_id: int | None, *, proof: bool = False) -> dict:
    links = {}
    for name, (prefix, salt) in PURPOSES.items():
        token = (
            "proof"
            if proof or message_id is None
            else signing.Signer(salt=salt).sign(str(message_id))
        )
        links[name] = f"{settings.SITE_URL}/{prefix}/{token}"
    return links
