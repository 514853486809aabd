from datetime import date

from sqlalchemy import func, select

from app.timesheets.models import MonthLock
from tests.factories import make_client, make_contract


def test_close_month_locks_every_running_contract_once(app, db):
    from app.cli import close_month_command

    make_contract(make_client(), start=date(2026, 1, 1))
    make_contract(make_client(), start=date(2026, 10, 20))
    runner = app.test_cli_runner()
    result = runner.invoke(close_month_command, ["2026-10"])
    assert result.exit_code == 0, result.output
    assert "2 contrat(s)" in result.output
    assert runner.invoke(close_month_command, ["2026-10"]).output.strip().endswith("0 contrat(s) clôturé(s).")
    assert db.session.scalar(select(func.count()).select_from(MonthLock)) == 2


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
