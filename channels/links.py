"""The links every message carries (``message.unsubscribe_url``, ``message.view_url``): ONE
function builds them, signed with their purpose's salt (``channels.tracking.SALTS``) under
``SITE_URL``: ``/u/<token>`` (the unsubscribe page and RFC 8058 one-click POST), ``/v/<token>``
(the message in a browser). A proof's links name no message, so they act on no real record."""

from django.conf import settings

from channels import tracking

PURPOSES = {"unsubscribe_url": "unsubscribe", "view_url": "view"}


def message_links(message_id: int | None, *, proof: bool = False) -> dict:
    links = {}
    for name, purpose in PURPOSES.items():
        if proof or message_id is None:
            links[name] = f"{settings.SITE_URL}/{tracking.PREFIX[purpose]}/proof"
        else:
            links[name] = tracking.url_for(purpose, message_id)
    return links
