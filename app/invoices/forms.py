"""Forms of the lead's invoice pages: they validate and normalise, never write.

An invoice's lines are a list of sub-forms (`lines-0-description`...). A row
left entirely empty is ignored, so the page can offer a few empty rows to
fill without JavaScript; with it, rows are added and removed in place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from app.fields import DateField, DecimalInputField, MoneyField, MonthField
from app.invoices.models import InvoiceKind, LineKind
from app.invoices.services import MAX_LINES, LineInput

DEFAULT_VAT = Decimal("20.00")
EXTRA_ROWS = 3  # empty rows offered below the lines (room to add without JavaScript)
MAX_ROWS = 120  # rows read from a post at most (empty ones included)
UNIT_CHOICES = [SelectChoice("unit", _l("unité")), SelectChoice("hour", _l("heure"))]


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


class _NumberField(DecimalInputField):
    """A non-negative decimal typed the French way ("2,5"); None when empty."""

    invalid_message = _l("Saisissez un nombre, par exemple 2,5.")
    negative_message = _l("Ce nombre ne peut pas être négatif.")
    maximum = Decimal("99999")
    trim_zeros = True


class QuantityField(_NumberField):
    invalid_message = _l("Saisissez une quantité, par exemple 1 ou 2,5.")
    negative_message = _l("La quantité ne peut pas être négative : une correction passe par un avoir.")
    too_big_message = _l("Quantité trop grande.")


class VatRateField(_NumberField):
    invalid_message = _l("Saisissez un taux, par exemple 20 ou 5,5.")
    negative_message = _l("Un taux de TVA entre 0 et 100 %.")
    too_big_message = _l("Un taux de TVA entre 0 et 100 %.")
    maximum = Decimal(100)


class LineForm(Form):
    """One line (a sub-form: the page's form holds the CSRF token)."""

    description = StringField(
        _l("Désignation"),
        validators=[Length(max=300, message=_l("300 caractères au plus."))],
        render_kw={"maxlength": 300, "autocomplete": "off"},
    )
    quantity = QuantityField(_l("Quantité"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    # A sub-form (wtforms.Form): WTForms' own messages would be in English.
    unit = SelectField(
        _l("Unité"),
        choices=UNIT_CHOICES,
        default="unit",
        invalid_choice_message=_l("Choisissez l'unité dans la liste."),
    )
    unit_price = MoneyField(
        _l("Prix unitaire HT"),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    vat_rate = VatRateField(
        _l("TVA (%)"), render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "20"}
    )
    kind = HiddenField(
        default=LineKind.MANUAL, validators=[AnyOf(list(LineKind), message=_l("Ligne invalide."))]
    )

    @property
    def blank(self) -> bool:
        """Nothing typed in the row: it is not a line."""
        return not (self.description.data or "").strip() and all(
            not (field.raw_data and (field.raw_data[0] or "").strip())
            for field in (self.quantity, self.unit_price)
        )

    def validate(self, extra_validators=None):
        if self.blank:
            return True
        valid = super().validate(extra_validators)
        if not (self.description.data or "").strip():
            self.description.errors = [*self.description.errors, _("Indiquez une désignation.")]
            valid = False
        if self.quantity.data is None and not self.quantity.errors:
            self.quantity.errors = [*self.quantity.errors, _("Indiquez une quantité.")]
            valid = False
        if self.unit_price.data is None and not self.unit_price.errors:
            self.unit_price.errors = [*self.unit_price.errors, _("Indiquez un prix unitaire HT.")]
            valid = False
        return valid

    def line(self, default_vat: Decimal) -> LineInput:
        return LineInput(
            description=self.description.data.strip(),
            quantity=self.quantity.data,
            unit_price=self.unit_price.data,
            vat_rate=default_vat if self.vat_rate.data is None else self.vat_rate.data,
            unit=self.unit.data or "unit",
            kind=self.kind.data or LineKind.MANUAL,
        )


class LinesMixin:
    """The list of lines and its rules: at least one, at most MAX_LINES."""

    lines_error: str | None = None

    def rows(self) -> list[LineForm]:
        return [entry.form for entry in self.lines.entries]

    def filled_rows(self) -> list[LineForm]:
        return [row for row in self.rows() if not row.blank]

    def check_lines(self) -> bool:
        self.lines_error = None
        posted = {
            key.split("-")[1] for key in request.form if key.startswith("lines-") and key.count("-") > 1
        }
        count = len(self.filled_rows())
        if len(posted) > MAX_ROWS or count > MAX_LINES:
            self.lines_error = _(
                "Une facture a au plus %(max)d lignes (vous en avez saisi %(count)d).",
                max=MAX_LINES,
                count=max(count, len(posted)),
            )
        elif count == 0:
            self.lines_error = _("Ajoutez au moins une ligne : désignation, quantité et prix unitaire.")
        return self.lines_error is None

    def line_inputs(self, default_vat: Decimal) -> list[LineInput]:
        return [row.line(default_vat) for row in self.filled_rows()]

    def pad_rows(self, extra: int = EXTRA_ROWS) -> None:
        """Offer `extra` empty rows below the lines."""
        for _i in range(extra):
            self.lines.append_entry()

    def any_line_errors(self) -> bool:
        return bool(self.lines_error) or any(row.errors for row in self.rows())


class InvoiceForm(LinesMixin, FlaskForm):
    title = StringField(
        _l("Objet de la facture"),
        validators=[
            InputRequired(_l("Donnez un objet à la facture.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
        render_kw={"maxlength": 200, "placeholder": _l("Shooting photo pour la boutique")},
    )
    contract = SelectField(
        _l("Contrat (facultatif)"),
        coerce=_optional_int,
        validators=[Optional()],
        invalid_choice_message=_l("Choisissez un contrat de ce client."),
    )
    period_start = DateField(_l("Période du"), validators=[Optional()])
    period_end = DateField(_l("au"), validators=[Optional()])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=MAX_ROWS)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.title.data is not None and not self.title.data.strip() and not self.title.errors:
            self.title.errors = [*self.title.errors, _("Donnez un objet à la facture.")]
            valid = False
        start, end = self.period_start.data, self.period_end.data
        if isinstance(start, date) and isinstance(end, date) and end < start:
            self.period_end.errors = [*self.period_end.errors, _("La fin de la période précède son début.")]
            valid = False
        return self.check_lines() and valid


class CreditNoteForm(LinesMixin, FlaskForm):
    reason = TextAreaField(
        _l("Motif de l'avoir"),
        validators=[
            InputRequired(_l("Indiquez le motif de l'avoir.")),
            Length(min=5, max=2000, message=_l("Un motif de 5 à 2 000 caractères.")),
        ],
        render_kw={"rows": 3, "maxlength": 2000},
        description=_l("Il figure sur l'avoir que reçoit le client."),
    )
    scope = RadioField(
        _l("Montant de l'avoir"),
        choices=[
            SelectChoice("full", _l("Toute la facture (elle sera annulée)")),
            SelectChoice("lines", _l("Une partie : les lignes et montants ci-dessous")),
        ],
        default="full",
        validators=[InputRequired(_l("Choisissez le montant de l'avoir."))],
    )
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=MAX_ROWS)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.scope.data != "lines":
            for row in self.rows():  # the lines do not count for a full credit note
                for field in row:
                    field.errors = []
                row._errors = None
            self.lines.errors = []
            self._errors = None
            return all(not field.errors for name, field in self._fields.items() if name != "lines")
        return self.check_lines() and valid

    @property
    def partial(self) -> bool:
        return self.scope.data == "lines"


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif de l'annulation"),
        validators=[
            InputRequired(_l("Indiquez pourquoi la facture est annulée.")),
            Length(min=5, max=2000, message=_l("Un motif de 5 à 2 000 caractères.")),
        ],
        render_kw={"rows": 2, "maxlength": 2000},
    )


class DraftMonthForm(FlaskForm):
    month = MonthField(_l("Mois"), validators=[InputRequired(_l("Choisissez un mois."))])


STATUS_CHOICES = [
    SelectChoice("", _l("Tous les statuts")),
    SelectChoice("draft", _l("Brouillons")),
    SelectChoice("issued", _l("Émises")),
    SelectChoice("partly_paid", _l("Payées en partie")),
    SelectChoice("paid", _l("Payées")),
    SelectChoice("overdue", _l("En retard")),
    SelectChoice("cancelled", _l("Annulées")),
]
KIND_CHOICES = [
    SelectChoice("", _l("Factures et avoirs")),
    SelectChoice(InvoiceKind.INVOICE, _l("Factures")),
    SelectChoice(InvoiceKind.CREDIT_NOTE, _l("Avoirs")),
]


class InvoiceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Rechercher"),
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "placeholder": _l("N° de facture, client, objet")},
    )
    status = SelectField(_l("Statut"), choices=STATUS_CHOICES, validators=[Optional()])
    client = SelectField(_l("Client"), coerce=_optional_int, validators=[Optional()])
    kind = SelectField(_l("Type"), choices=KIND_CHOICES, validators=[Optional()])
    month = MonthField(_l("Mois"), validators=[Optional()])
    year = SelectField(_l("Année"), coerce=_optional_int, validators=[Optional()], validate_choice=False)

    def validate_year(self, field):
        if field.data is not None and not 2000 <= field.data <= 2100:
            raise ValidationError(_("Année invalide."))  # WTForms 3 lets a ValueError through (500)


def template_row() -> LineForm:
    """An empty row named `lines-__index__-…`, for the page's <template>:
    JavaScript copies it with the next free index."""
    return LineForm(formdata=None, prefix="lines-__index__-")
