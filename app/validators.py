"""Form rules that need the database, for every area's forms: a name, slug or e-mail address
that another row already holds is refused beside its field, with a translated message, instead
of a check in each view."""

from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute
from wtforms import Field
from wtforms.validators import ValidationError

from .extensions import db


class RowForm(FlaskForm):
    """A form that creates or edits one row of an organisation. It knows which organisation and
    which row (`editing_id`, None for a new one), so `Unique` does not find the row itself."""

    def __init__(
        self, *args, organisation_id: int | None = None, editing_id: int | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id
        self.editing_id = editing_id


class Unique:
    """The field's value is held by no other row of `column`'s table: within the form's
    organisation unless `across_organisations` (an e-mail address signs in to one account),
    compared case-insensitively when `ignore_case`. The database's unique index still decides a
    race between two admins; this gives the message beside the field in every other case."""

    def __init__(
        self,
        column: InstrumentedAttribute,
        message: str,
        *,
        ignore_case: bool = False,
        across_organisations: bool = False,
    ):
        self.column = column
        self.message = message
        self.ignore_case = ignore_case
        self.across_organisations = across_organisations

    def __call__(self, form: RowForm, field: Field) -> None:
        if not field.data:
            return
        model = self.column.class_
        if self.ignore_case:
            same = func.lower(self.column) == field.data.lower()
        else:
            same = self.column == field.data
        query = select(model.id).where(same)
        if not self.across_organisations:
            query = query.where(model.organisation_id == form.organisation_id)
        if form.editing_id is not None:
            query = query.where(model.id != form.editing_id)
        if db.session.scalar(query.limit(1)) is not None:
            raise ValidationError(str(self.message))
