"""Readable error pages that work without JavaScript."""

from django.shortcuts import render


def _error(request, status: int, title: str, message: str):
    return render(
        request,
        "core/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _error(request, 403, "Not allowed", "You do not have access to this page.")


def page_not_found(request, exception=None):
    return _error(
        request,
        404,
        "Not found",
        "There is nothing at this address. The dataset may have another DOI, or it may not "
        "be public.",
    )


def server_error(request):
    return _error(
        request,
        500,
        "Something went wrong",
        "The hub could not answer this request. The error has been logged; please try again "
        "later or contact the data director.",
    )
