"""The links of a pager: first, previous, next and last page, and a form to jump to any page."""

from flask import current_app, url_for


def page_links(pagination, endpoint: str, **args) -> dict:
    """Return the pager's URLs for *endpoint* with the view's *args* (None and "" left out), and the
    jump form's action and hidden fields (the args that are not part of the URL's path)."""
    args = {k: v for k, v in args.items() if v not in (None, "") and k != "page"}
    path_args = set().union(*(rule.arguments for rule in current_app.url_map.iter_rules(endpoint)))

    def page(number: int) -> str:
        return url_for(endpoint, **args, page=number) if number > 1 else url_for(endpoint, **args)

    last = max(pagination.pages, 1)
    return {
        "first": page(1) if pagination.page > 1 else None,
        "prev": page(min(pagination.page - 1, last)) if pagination.page > 1 else None,
        "next": page(pagination.page + 1) if pagination.page < last else None,
        "last": page(last) if pagination.page < last else None,
        "action": url_for(endpoint, **{k: v for k, v in args.items() if k in path_args}),
        "hidden": {k: v for k, v in args.items() if k not in path_args},
        "pages": last,
    }
