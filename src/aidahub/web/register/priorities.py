"""The clinical council records its approved list of data priorities.

Policy: the clinical council sets the data priorities; the hub can cover the costs of
sharing, extracting and enriching prioritized data. A list is never edited once approved:
a new decision is a new list, so the history of what was prioritized, when, stays on the
priorities page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidahub.web.audit.services import record
from aidahub.web.register.models import Priority, PriorityList

MAX_PRIORITIES = 50


@dataclass(frozen=True)
class PriorityItem:
    title: str
    description: str = ""


def record_priority_list(
    *,
    approved_on: dt.date,
    approved_by: str,
    note: str,
    items: list[PriorityItem],
    actor,
    request=None,
) -> PriorityList:
    """Store a newly approved list, numbered in the order given, and audit it."""
    if not items:
        raise ValidationError(_("A priority list needs at least one priority."))
    if len(items) > MAX_PRIORITIES:
        raise ValidationError(_("At most %(n)d priorities.") % {"n": MAX_PRIORITIES})
    with transaction.atomic():
        plist = PriorityList.objects.create(
            approved_on=approved_on, approved_by=approved_by, note=note
        )
        Priority.objects.bulk_create(
            Priority(priority_list=plist, number=n, title=i.title, description=i.description)
            for n, i in enumerate(items, start=1)
        )
        record(
            "register.priorities.approved",
            actor=actor,
            obj=plist,
            request=request,
            data={
                "approved_on": approved_on.isoformat(),
                "approved_by": approved_by,
                "priorities": [i.title for i in items],
            },
        )
    return plist


class PriorityListForm(forms.Form):
    approved_on = forms.DateField(
        label=gettext_lazy("Approved on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    approved_by = forms.CharField(
        label=gettext_lazy("Approved by"), max_length=200, initial="Clinical council"
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=5000, widget=forms.Textarea
    )


class PriorityForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("description") and not data.get("title"):
            raise ValidationError(_("A priority with a description needs a title."))
        return data


PriorityFormSet = forms.formset_factory(
    PriorityForm, extra=3, max_num=MAX_PRIORITIES, validate_max=True, absolute_max=MAX_PRIORITIES
)


def initial_rows(current: PriorityList | None) -> list[dict[str, str]]:
    """Start from the list in force, so the council edits rather than retypes it."""
    if current is None:
        return []
    return [{"title": p.title, "description": p.description} for p in current.priorities.all()]


def items_from(formset) -> list[PriorityItem]:
    """Rows left blank are dropped; the order of the rows is the order of priority."""
    return [
        PriorityItem(f.cleaned_data["title"].strip(), f.cleaned_data["description"].strip())
        for f in formset.forms
        if f.cleaned_data.get("title", "").strip()
    ]
