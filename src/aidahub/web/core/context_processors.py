from django.conf import settings


def hub(request):
    return {
        "HUB_NAME": settings.HUB_NAME,
        "CONSORTIUM_NAME": settings.CONSORTIUM_NAME,
        "BASE_URL": settings.BASE_URL,
        "DATA_DIRECTOR_EMAIL": settings.DATA_DIRECTOR_EMAIL,
    }
