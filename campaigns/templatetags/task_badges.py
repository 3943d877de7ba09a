"""``{% my_tasks_count %}``: how many open tasks wait for the current user (their groups' and
those assigned to them), for the "My tasks" badge of the admin header."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def my_tasks_count(context) -> int:
    from campaigns.services import open_tasks

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_staff", False):
        return 0
    return open_tasks(user).count()
