from datetime import date

from sqlalchemy import func, select

from app.timesheets.models import MonthLock
from tests.factories import make_client, make_contract


def test_close_month_locks_every_running_contract_once_and_makes_its_report(app, db):
    from app.cli import close_month_command
    from app.invoices.models import Invoice
    from app.reports.models import Report

    make_contract(make_client(), start=date(2026, 1, 1))
    make_contract(make_client(), start=date(2026, 10, 20))
    runner = app.test_cli_runner()
    result = runner.invoke(close_month_command, ["2026-10"])
    assert result.exit_code == 0, result.output
    assert "saisies verrouillées, 2 rapport(s) à préparer" in result.output
    assert "Rapports prêts : 2/2, en échec : 0." in result.output  # rendered in-process
    assert "2 brouillon(s) de facture (0 déjà émise(s))" in result.output
    assert "http://localhost/invoices?month=2026-10&status=draft" in result.output
    again = runner.invoke(close_month_command, ["2026-10"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count()).select_from(MonthLock)) == 2
    assert db.session.scalar(select(func.count()).select_from(Report)) == 2
    assert "2 brouillon(s) de facture" in again.output  # the same two drafts, not four
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 2


def test_close_month_refuses_a_month_not_begun(app, db):
    from app.cli import close_month_command

    result = app.test_cli_runner().invoke(close_month_command, ["2099-01"])
    assert result.exit_code == 2
    assert "pas commencé" in result.output


def test_close_month_refuses_a_malformed_month_and_changes_nothing(app, db):
    from app.cli import close_month_command

    make_contract(make_client(), start=date(2026, 1, 1))
    result = app.test_cli_runner().invoke(close_month_command, ["octobre"])
    assert result.exit_code == 2
    assert "AAAA-MM" in result.output
    assert db.session.scalar(select(func.count()).select_from(MonthLock)) == 0


def test_daily_checks_refuses_a_bad_day(app, db):
    from app.cli import daily_checks_command

    result = app.test_cli_runner().invoke(daily_checks_command, ["--day", "demain"])
    assert result.exit_code == 2
    assert "AAAA-MM-JJ" in result.output
